import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { addFilterOptions } from '../options.ts';

export default defineCommand({
  path: ['registry', 'import'],
  summary: 'import servers from one registry document into another (--from FILE --to FILE)',
  define: (cmd, ctx) =>
    addFilterOptions(
      cmd
        .usage('--from FILE|- --to FILE [options]')
        .description(
          `Reads the servers of a registry document (--from FILE, or - for standard input; format detected
  unless --format says it), filters them, converts them to the target's format and writes them into
  --to FILE, which is created when missing. --mode merge (the default) adds new servers, updates
  changed ones and keeps the rest; --mode replace drops the servers the import does not have.
  --convert-to toolhive|upstream sets the written format (default: the source's). --dry-run
  reports what would change and writes nothing. The summary line counts added, updated,
  unchanged, kept, removed and skipped (invalid, filtered) servers; --report FILE writes the
  outcome of every server as JSON. An import that changes nothing leaves the file untouched.
  This is what an MCPRegistryImportJob does, between files.`,
        )
        .requiredOption('--from <FILE>', 'the registry document to import (- for standard input)')
        .requiredOption('--to <FILE>', 'the registry document to write (created when missing)')
        .addOption(new Option('--mode <MODE>', 'merge|replace (default merge)').choices(['merge', 'replace'] as const).default('merge' as const))
        .addOption(new Option('--format <FORMAT>', "toolhive|upstream: the source's format (default: detected)").choices(['toolhive', 'upstream'] as const))
        .addOption(new Option('--convert-to <FORMAT>', "toolhive|upstream: the format written (default: the source's)").choices(['toolhive', 'upstream'] as const))
        .option('--dry-run', 'report what would change; write nothing', false)
        .option('--report <FILE>', "write every server's outcome (and the counts) as JSON to FILE"),
      { keep: 'import', drop: 'skip' },
    )
      .addHelpText('after', '\nexit status: 0 imported (or dry run), 1 invalid input or unwritable target, 2 usage error')
      .action(async (options) => {
        const { importBetweenFiles } = await import('../job-files.ts');
        const result = await importBetweenFiles(options, ctx.io.stdin);
        ctx.io.stdout.write(result.summary);
      }),
});
