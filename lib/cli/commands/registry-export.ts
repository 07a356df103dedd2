import { Option } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';
import { addFilterOptions } from '../options.ts';

export default defineCommand({
  path: ['registry', 'export'],
  summary: 'write a registry document in a chosen format (--from FILE --to FILE)',
  define: (cmd, ctx) =>
    addFilterOptions(
      cmd
        .usage('--from FILE|- --to FILE [--format toolhive|upstream|upstream-list] [options]')
        .description(
          `Reads a registry document (--from FILE, or - for standard input; format detected) and writes it,
  or the subset the filters keep, to --to FILE (replaced atomically) in --format:
    toolhive        ToolHive's registry.json
    upstream        ToolHive's upstream file envelope {"$schema","version","meta","data":{"servers":[server.json…]}}
    upstream-list   the registry API's list envelope {"servers":[{"server","_meta"}],"metadata":{"count"}}
  This is what an MCPRegistryExportJob writes from a registry's snapshot, between files.`,
        )
        .requiredOption('--from <FILE>', 'the registry document to read (- for standard input)')
        .requiredOption('--to <FILE>', 'the file to write')
        .addOption(new Option('--format <FORMAT>', 'toolhive|upstream|upstream-list (default toolhive)').choices(['toolhive', 'upstream', 'upstream-list'] as const).default('toolhive' as const)),
      { keep: 'export', drop: 'leave out' },
    )
      .addHelpText('after', '\nexit status: 0 written, 1 invalid input or unwritable target, 2 usage error')
      .action(async (options) => {
        const { exportBetweenFiles } = await import('../job-files.ts');
        ctx.io.stdout.write(await exportBetweenFiles(options, ctx.io.stdin));
      }),
});
