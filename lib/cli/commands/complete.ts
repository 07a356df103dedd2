import type { Command } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';

export default defineCommand({
  path: ['complete'],
  summary: 'completion candidates for the words after -- (what completion scripts call)',
  hidden: true,
  define: (cmd, ctx) =>
    cmd
      .usage('-- WORDS…')
      .description('Prints the completion candidates for the last of WORDS, one `value<TAB>description` line each, then `:directive` (Cobra\'s protocol).')
      .argument('[WORDS...]')
      .action(async (words, _options, self) => {
        const { printCompletions } = await import('../completion.ts');
        let root = self as unknown as Command;
        while (root.parent) root = root.parent as unknown as Command;
        await printCompletions(ctx, root, words);
      }),
});
