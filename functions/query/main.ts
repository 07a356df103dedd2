// The query function's HTTP entry point. Built in the query-function issue.
console.error('mcp-registry-query: not built yet');
process.exitCode = 1;
