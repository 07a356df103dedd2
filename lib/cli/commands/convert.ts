import type { ParsedDocument, RegistryFormat, UpstreamRegistryFile } from '../../formats/index.ts';
import { defineCommand } from '../command.ts';
import { type CliIo, UsageError } from '../io.ts';
import { readDocument } from '../read-document.ts';
import { writeAtomically } from '../write-atomically.ts';

type Formats = typeof import('../../formats/index.ts');

const DESCRIPTION = `Reads a registry document (FILE, or - for standard input), detects its format and writes it in
the other (or the same, normalised) format.

Input: a ToolHive registry.json, or upstream documents: the registry API's list envelope
({"servers":[{"server","_meta"}]}), ToolHive's upstream file envelope ({"data":{"servers"}}),
a single server.json, or a JSON array of server.json documents.

  --to upstream   writes ToolHive's upstream registry file envelope:
                  {"$schema","version","meta":{"last_updated"},"data":{"servers":[server.json…]}}
                  (no groups: ToolHive reads none there; they stay in the ToolHive format)
                  (every ToolHive entry becomes one server.json; ToolHive-only fields go under
                  _meta["io.modelcontextprotocol.registry/publisher-provided"]["io.github.stacklok"]).
                  With --list, writes the registry API's list envelope instead:
                  {"servers":[{"server":…,"_meta":…}],"metadata":{"count":N}}
  --to toolhive   writes a ToolHive registry.json; from upstream input, the latest version of each
                  server becomes one entry (servers that ToolHive cannot run, e.g. with only mcpb
                  packages, are listed on stderr and left out)`;

export default defineCommand({
  path: ['convert'],
  summary: 'convert a registry between the ToolHive and the upstream (official MCP) format',
  define: (cmd, ctx) =>
    cmd
      .usage('--to upstream|toolhive [options] FILE|-')
      .description(DESCRIPTION)
      .argument('[file]')
      .option('--to <FORMAT>', 'upstream|toolhive: the output format (required)')
      .option('--from <FORMAT>', 'toolhive|upstream: require this input format instead of detecting it')
      .option('--out <FILE>', 'write to FILE (replaced atomically) instead of standard output')
      .option('--list', 'with --to upstream: the list envelope instead of the file envelope', false)
      .option('--lenient', 'leave invalid entries out (each listed on stderr) instead of failing on the first', false)
      .addHelpText('after', '\nexit status: 0 written, 1 invalid input, 2 usage error')
      .allowExcessArguments()
      .action(async (_file, values, c) => {
        ctx.exitCode = await convert(c.args, values, ctx.io);
      }),
});

async function convert(positionals: string[], values: { to?: string; from?: string; out?: string; list: boolean; lenient: boolean }, io: CliIo): Promise<number> {
  const to = values.to;
  if (to !== 'upstream' && to !== 'toolhive') throw new UsageError(`convert: --to must be "upstream" or "toolhive"${to === undefined ? '' : `, not ${JSON.stringify(to)}`}`);
  const from = values.from;
  if (from !== undefined && from !== 'upstream' && from !== 'toolhive') throw new UsageError(`convert: --from must be "upstream" or "toolhive", not ${JSON.stringify(from)}`);
  if (values.list && to !== 'upstream') throw new UsageError('convert: --list only applies to --to upstream');
  if (positionals.length !== 1) throw new UsageError(`convert: expected one input FILE or -, got ${positionals.length}`);
  const input = positionals[0] as string;

  const bytes = await readDocument(input, io.stdin);
  const formats = await import('../../formats/index.ts');
  const doc = formats.parseRegistryDocument(bytes, {
    file: input === '-' ? '<stdin>' : input,
    format: from as RegistryFormat | undefined,
    mode: values.lenient ? 'lenient' : 'strict',
  });
  for (const p of doc.invalid) io.stderr.write(`mcpreg: warning: left out ${p.path}: ${p.message}\n`);

  const output = to === 'upstream' ? toUpstream(formats, doc, values.list) : toToolhive(formats, doc, io);
  const text = `${JSON.stringify(output, null, 2)}\n`;
  if (values.out === undefined) io.stdout.write(text);
  else await writeAtomically(values.out, text);
  return 0;
}

function toUpstream(f: Formats, doc: ParsedDocument, list: boolean): unknown {
  if (list) return f.toServerList(doc.servers);
  if (doc.toolhive) return f.toolhiveToUpstreamFile(doc.toolhive);
  const file: UpstreamRegistryFile = {
    $schema: f.TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
    version: doc.version ?? f.DEFAULT_REGISTRY_VERSION,
    meta: { last_updated: doc.lastUpdated ?? f.rfc3339Now() },
    data: { servers: doc.servers.map((r) => r.server) },
  };
  return file;
}

function toToolhive(f: Formats, doc: ParsedDocument, io: CliIo): unknown {
  if (doc.toolhive) return doc.toolhive;
  const { registry, skipped } = f.upstreamToToolhive(doc.servers, { version: doc.version, lastUpdated: doc.lastUpdated, groups: doc.groups });
  for (const s of skipped) io.stderr.write(`mcpreg: warning: left out server ${JSON.stringify(s.server)} version ${JSON.stringify(s.version)}: ${s.message}\n`);
  return registry;
}
