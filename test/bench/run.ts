/**
 * `npm run bench -- <group> [args]`: runs one benchmark group (test/bench/<group>.ts, which
 * exports `run(args)`) and prints one JSON line per scenario on stdout. Without a group,
 * runs every group in turn.
 */
const groups = ['sync', 'query', 'deploy', 'latency', 'scale'] as const;

const [group, ...rest] = process.argv.slice(2);
const selected = group ? [group] : [...groups];
for (const name of selected) {
  if (!(groups as readonly string[]).includes(name)) {
    console.error(`bench: unknown group '${name}' (known: ${groups.join(', ')})`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.ts`)) as { run: (args: string[]) => Promise<void> };
  await mod.run(rest);
}
