import type { Command as Commander, Option as CommanderOption } from '@commander-js/extra-typings';
import { RootCommand, script, type Command as TabCommand } from '@bomb.sh/tab';
import type { CliContext } from './command.ts';

/**
 * Shell completion with @bomb.sh/tab: `mcpreg completion bash|zsh|fish` prints a script that
 * asks `mcpreg complete -- WORDS…` for candidates (Cobra's protocol: `value<TAB>description`
 * lines, then `:directive`), so completions always follow the installed CLI. The candidates
 * come from the commander tree itself: subcommands, options, the values of options with
 * choices, and registry names for `registry get|sync|remove NAME` when a cluster answers.
 */

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;

/** Captures what tab prints (it writes with console.log) into the command's stdout. */
function toStdout<T>(ctx: CliContext, run: () => T): T {
  const log = console.log;
  console.log = (...values: unknown[]) => void ctx.io.stdout.write(`${values.join(' ')}\n`);
  try {
    return run();
  } finally {
    console.log = log;
  }
}

export function printScript(ctx: CliContext, shell: (typeof SHELLS)[number]): void {
  // the kubectl plugin completes through kubectl_complete-mcpreg; the script is for `mcpreg`
  toStdout(ctx, () => script(shell, 'mcpreg', 'mcpreg'));
}

const isHidden = (c: Commander) => (c as unknown as { _hidden?: boolean })._hidden === true;

function addOptions(target: TabCommand, cmd: Commander): void {
  for (const o of cmd.options as readonly CommanderOption[]) {
    if (o.hidden || !o.long) continue;
    const name = o.long.slice(2);
    const alias = o.short?.slice(1);
    const choices = o.argChoices ?? [];
    if (o.required || o.optional) target.option(name, o.description, (complete) => choices.forEach((c) => complete(c, '')), alias);
    else target.option(name, o.description, alias);
  }
  target.option('help', 'this help', 'h');
}

function addArguments(target: TabCommand, cmd: Commander, dynamic: (path: string, argument: string) => string[] | undefined): void {
  const path = target.value;
  for (const a of cmd.registeredArguments) {
    const values = a.argChoices ?? dynamic(path, a.name());
    target.argument(a.name(), values ? (complete) => values.forEach((v) => complete(v, '')) : undefined, a.variadic);
  }
}

/** tab's view of the commander tree; `dynamic` may name the values of an argument */
export function completionTree(program: Commander, dynamic: (path: string, argument: string) => string[] | undefined = () => undefined): RootCommand {
  const root = new RootCommand();
  addOptions(root, program);
  const walk = (cmd: Commander, prefix: string) => {
    for (const sub of cmd.commands as readonly Commander[]) {
      if (isHidden(sub)) continue;
      const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
      const target = root.command(path, sub.summary() || '');
      addOptions(target, sub);
      addArguments(target, sub, dynamic);
      walk(sub, path);
    }
  };
  walk(program, '');
  return root;
}

/** Registry names for NAME arguments, from the cluster (best effort: a short timeout, errors ignored). */
async function registryNames(words: string[], ctx: CliContext): Promise<string[] | undefined> {
  const flag = (long: string, short?: string) => {
    const i = words.findIndex((w) => w === long || (short !== undefined && w === short));
    return i >= 0 ? words[i + 1] : words.find((w) => w.startsWith(`${long}=`))?.slice(long.length + 1);
  };
  try {
    const { connectKube } = await import('./kube.ts');
    const { registryApi } = await import('./registries.ts');
    const target = await connectKube({ kubeconfig: flag('--kubeconfig'), context: flag('--context'), namespace: flag('--namespace', '-n') }, ctx.env);
    const listed = registryApi(target).list(target.namespace);
    const items = await Promise.race([listed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
    listed.catch(() => {});
    return items?.map((o) => o.metadata.name);
  } catch {
    return undefined;
  }
}

/** `mcpreg complete -- WORDS…`: the candidates for the last word. */
export async function printCompletions(ctx: CliContext, program: Commander, words: string[]): Promise<void> {
  const named = /^registry (get|sync|remove)$/;
  const needsNames = words[0] === 'registry' && named.test(`${words[0]} ${words[1]}`);
  const names = needsNames ? await registryNames(words, ctx) : undefined;
  const tree = completionTree(program, (path, argument) => (named.test(path) && argument === 'NAME' ? names : undefined));
  toStdout(ctx, () => tree.parse([...words]));
}
