import { writeFile, rename, unlink } from 'node:fs/promises';
import { RegistryError } from '../../errors.ts';
import {
  TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
  DEFAULT_REGISTRY_VERSION,
  parseRegistryDocument,
  rfc3339Now,
  toServerList,
  toolhiveToUpstreamFile,
  upstreamToToolhive,
  type ParsedDocument,
  type RegistryFormat,
  type UpstreamRegistryFile,
} from '../../formats/index.ts';
import { parseCommandArgs, UsageError, type CliIo } from '../io.ts';
import { readDocument } from '../read-document.ts';

const HELP = `usage: mcpreg convert --to upstream|toolhive [options] FILE|-

Reads a registry document (FILE, or - for standard input), detects its format and writes it in
the other (or the same, normalised) format.

Input: a ToolHive registry.json, or upstream documents: the registry API's list envelope
({"servers":[{"server","_meta"}]}), ToolHive's upstream file envelope ({"data":{"servers"}}),
a single server.json, or a JSON array of server.json documents.

  --to upstream   writes ToolHive's upstream registry file envelope:
                  {"$schema","version","meta":{"last_updated"},"data":{"servers":[server.json…],"groups":[…]}}
                  (every ToolHive entry becomes one server.json; ToolHive-only fields go under
                  _meta["io.modelcontextprotocol.registry/publisher-provided"]["io.github.stacklok"]).
                  With --list, writes the registry API's list envelope instead:
                  {"servers":[{"server":…,"_meta":…}],"metadata":{"count":N}}
  --to toolhive   writes a ToolHive registry.json; from upstream input, the latest version of each
                  server becomes one entry (servers that ToolHive cannot run, e.g. with only mcpb
                  packages, are listed on stderr and left out)

options:
  --from FORMAT   toolhive|upstream: require this input format instead of detecting it
  --out FILE      write to FILE (replaced atomically) instead of standard output
  --list          with --to upstream: the list envelope instead of the file envelope
  --lenient       leave invalid entries out (each listed on stderr) instead of failing on the first
  -h, --help      this help

exit status: 0 written, 1 invalid input, 2 usage error
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('convert', args, {
        to: { type: 'string' },
        from: { type: 'string' },
        out: { type: 'string' },
        list: { type: 'boolean', default: false },
        lenient: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const to = values.to;
  if (to !== 'upstream' && to !== 'toolhive') throw new UsageError(`convert: --to must be "upstream" or "toolhive"${to === undefined ? '' : `, not ${JSON.stringify(to)}`}`);
  const from = values.from;
  if (from !== undefined && from !== 'upstream' && from !== 'toolhive') throw new UsageError(`convert: --from must be "upstream" or "toolhive", not ${JSON.stringify(from)}`);
  if (values.list && to !== 'upstream') throw new UsageError('convert: --list only applies to --to upstream');
  if (positionals.length !== 1) throw new UsageError(`convert: expected one input FILE or -, got ${positionals.length}`);
  const input = positionals[0] as string;

  const bytes = await readDocument(input, io.stdin);
  const doc = parseRegistryDocument(bytes, {
    file: input === '-' ? '<stdin>' : input,
    format: from as RegistryFormat | undefined,
    mode: values.lenient ? 'lenient' : 'strict',
  });
  for (const p of doc.invalid) io.stderr.write(`mcpreg: warning: left out ${p.path}: ${p.message}\n`);

  const output = to === 'upstream' ? toUpstream(doc, values.list) : toToolhive(doc, io);
  const text = `${JSON.stringify(output, null, 2)}\n`;
  if (values.out === undefined) io.stdout.write(text);
  else await writeAtomically(values.out, text);
  return 0;
}

function toUpstream(doc: ParsedDocument, list: boolean): unknown {
  if (list) return toServerList(doc.servers);
  if (doc.toolhive) return toolhiveToUpstreamFile(doc.toolhive);
  const file: UpstreamRegistryFile = {
    $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL,
    version: doc.version ?? DEFAULT_REGISTRY_VERSION,
    meta: { last_updated: doc.lastUpdated ?? rfc3339Now() },
    data: { servers: doc.servers.map((r) => r.server), groups: doc.groups ?? [] },
  };
  return file;
}

function toToolhive(doc: ParsedDocument, io: CliIo): unknown {
  if (doc.toolhive) return doc.toolhive;
  const { registry, skipped } = upstreamToToolhive(doc.servers, { version: doc.version, lastUpdated: doc.lastUpdated, groups: doc.groups });
  for (const s of skipped) io.stderr.write(`mcpreg: warning: left out server ${JSON.stringify(s.server)} version ${JSON.stringify(s.version)}: ${s.message}\n`);
  return registry;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new RegistryError('invalid_argument', `cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: { file: path } });
  }
}
