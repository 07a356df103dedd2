import { type CliIo, type CommandModule, reportError } from './io.ts';

/** Commands, loaded lazily: `mcpreg validate` does not pay for the Kubernetes client. */
const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  'control-plane': {
    summary: 'run the embedded Kubernetes-API control plane (a development and test server, not a cluster)',
    load: () => import('./commands/control-plane.ts'),
  },
  convert: { summary: 'convert a registry between the ToolHive and the upstream (official MCP) format', load: () => import('./commands/convert.ts') },
  dev: {
    summary: 'run the whole registry locally (Kubernetes API, sync and query functions, examples): what `npm start` runs',
    load: () => import('./commands/dev.ts'),
  },
  validate: { summary: 'check a registry document (ToolHive or upstream format) and list its problems', load: () => import('./commands/validate.ts') },
};

function usage(): string {
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return `usage: mcpreg <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'mcpreg <command> --help' for a command's options.\n`;
}

export async function runCli(argv: string[], io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr.write(`mcpreg: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}
