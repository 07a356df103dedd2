import { isRegistryError, type RegistryError } from '../../errors.ts';
import type { Problem, RegistryFormat } from '../../formats/index.ts';
import { defineCommand } from '../command.ts';
import { type CliIo, UsageError } from '../io.ts';
import { readDocument } from '../read-document.ts';

const DESCRIPTION = `Checks a registry document (FILE, or - for standard input): JSON syntax, UTF-8, size and nesting
limits, the document's format (detected: ToolHive registry.json or an upstream document), every
entry against its schema, and duplicate names. Each problem is printed as "path: message", the
path being the JSON path inside the document ("$" for the document itself).`;

interface Reported {
  path: string;
  server?: string;
  code: string;
  message: string;
}

export default defineCommand({
  path: ['validate'],
  summary: 'check a registry document (ToolHive or upstream format) and list its problems',
  define: (cmd, ctx) =>
    cmd
      .usage('[options] FILE|-')
      .description(DESCRIPTION)
      .argument('[file]')
      .option('--format <FORMAT>', 'toolhive|upstream: require this format instead of detecting it')
      .option('--strict', 'stop at the first problem (default: list every problem)', false)
      .option('--json', 'print the problems as a JSON array of {path, server, code, message}', false)
      .addHelpText('after', '\nexit status: 0 valid, 1 invalid, 2 usage error')
      .allowExcessArguments()
      .action(async (_file, values, c) => {
        ctx.exitCode = await validate(c.args, values, ctx.io);
      }),
});

async function validate(positionals: string[], values: { format?: string; strict: boolean; json: boolean }, io: CliIo): Promise<number> {
  const format = values.format;
  if (format !== undefined && format !== 'toolhive' && format !== 'upstream') throw new UsageError(`validate: --format must be "toolhive" or "upstream", not ${JSON.stringify(format)}`);
  if (positionals.length !== 1) throw new UsageError(`validate: expected one input FILE or -, got ${positionals.length}`);
  const input = positionals[0] as string;
  const file = input === '-' ? '<stdin>' : input;

  const bytes = await readDocument(input, io.stdin);
  let problems: Reported[];
  let summaryLine = '';
  try {
    const { parseRegistryDocument } = await import('../../formats/index.ts');
    const doc = parseRegistryDocument(bytes, { file, format: format as RegistryFormat | undefined, mode: values.strict ? 'strict' : 'lenient' });
    problems = doc.invalid.map(fromProblem);
    summaryLine = `${file}: ${doc.format} document (${doc.shape}), ${doc.servers.length} valid entr${doc.servers.length === 1 ? 'y' : 'ies'}`;
  } catch (e) {
    if (!isRegistryError(e)) throw e;
    problems = [fromError(e)];
  }

  if (values.json) io.stdout.write(`${JSON.stringify(problems, null, 2)}\n`);
  else if (problems.length === 0) io.stdout.write(`${summaryLine}: valid\n`);
  else {
    for (const p of problems) io.stdout.write(`${p.path}: ${p.message}${p.server !== undefined && !p.path.includes(p.server) ? ` (server ${JSON.stringify(p.server)})` : ''}\n`);
    if (summaryLine) io.stderr.write(`${summaryLine}, ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  }
  return problems.length === 0 ? 0 : 1;
}

function fromProblem(p: Problem): Reported {
  const out: Reported = { path: p.path || '$', code: p.code, message: p.message };
  if (p.server !== undefined) out.server = p.server;
  return out;
}

function fromError(e: RegistryError): Reported {
  const out: Reported = { path: e.where.path || '$', code: e.code, message: e.message };
  if (e.where.server !== undefined) out.server = e.where.server;
  return out;
}
