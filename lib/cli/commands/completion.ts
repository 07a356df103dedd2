import { Argument } from '@commander-js/extra-typings';
import { defineCommand } from '../command.ts';

export default defineCommand({
  path: ['completion'],
  summary: 'print a shell completion script (bash, zsh, fish, powershell)',
  define: (cmd, ctx) =>
    cmd
      .description(
        `Prints a completion script for the shell. It completes commands, options, option values and
registry names by asking mcpreg itself, so it follows the installed version. Load it now:

  source <(mcpreg completion bash)          # bash (needs the bash-completion package)
  source <(mcpreg completion zsh)           # zsh
  mcpreg completion fish | source           # fish

or for good: mcpreg completion bash > /etc/bash_completion.d/mcpreg (or your shell's
completion folder). kubectl completes \`kubectl mcpreg …\` through the kubectl_complete-mcpreg
executable installed beside kubectl-mcpreg.`,
      )
      .addArgument(new Argument('<SHELL>', 'bash, zsh, fish or powershell').choices(['bash', 'zsh', 'fish', 'powershell'] as const))
      .action(async (shell) => {
        const { printScript } = await import('../completion.ts');
        printScript(ctx, shell);
      }),
});
