// The sync function's HTTP entry point (CloudEvents). Built in the MCPRegistry/sync-function issue.
console.error('mcp-registry-sync: not built yet');
process.exitCode = 1;
