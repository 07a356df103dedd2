/**
 * The chaos run's registry contents (chaos.ts): a registry is a set of server versions whose
 * source changes step by step, each change a new revision. Pure and seeded: the same seed
 * gives the same revisions. A version's description names the revision that last wrote it, so
 * every revision's content is told apart by the invariant checker (invariants.ts).
 */
import type { Rng } from '../bench/generate.ts';
import type { Entry } from './invariants.ts';

export interface RegistryModel {
  /** every revision the source has had, oldest first */
  revisions: Entry[][];
  /** name → version → description */
  current: Map<string, Map<string, string>>;
  nextServer: number;
}

const PAD = 'a chaos-run server kept in the registry while faults are injected; '.repeat(3);

function describe(name: string, version: string, revision: number): string {
  return `${name} ${version}, written by revision ${revision}: ${PAD}`;
}

function snapshot(current: Map<string, Map<string, string>>): Entry[] {
  const out: Entry[] = [];
  for (const [name, versions] of current) for (const [version, description] of versions) out.push({ name, version, description });
  return out;
}

function addServer(m: RegistryModel, rng: Rng, revision: number): void {
  const name = `io.github.chaos/server-${m.nextServer++}`;
  const versions = new Map<string, string>();
  const n = rng.int(1, 3);
  for (let i = 0; i < n; i++) versions.set(`1.${i}.0`, describe(name, `1.${i}.0`, revision));
  m.current.set(name, versions);
}

export function newRegistryModel(rng: Rng): RegistryModel {
  const m: RegistryModel = { revisions: [], current: new Map(), nextServer: 1 };
  const n = rng.int(4, 10);
  for (let i = 0; i < n; i++) addServer(m, rng, 0);
  m.revisions.push(snapshot(m.current));
  return m;
}

/** What the step did to the source, for the log. */
export type Change = 'add-server' | 'add-version' | 'remove-version' | 'remove-server' | 'edit' | 'same' | 'revert';

/** Changes the source (1–3 edits, none, or back to an earlier revision) and records the new revision. */
export function changeRegistry(m: RegistryModel, rng: Rng): Change[] {
  const revision = m.revisions.length;
  const done: Change[] = [];
  if (rng.chance(0.1)) {
    m.revisions.push(snapshot(m.current));
    return ['same'];
  }
  if (m.revisions.length > 2 && rng.chance(0.08)) {
    // a rollback (a ConfigMap restored, a document reverted): content published before, in the pointer's history
    const back = m.revisions[m.revisions.length - 1 - rng.int(1, Math.min(3, m.revisions.length - 1))]!;
    m.current = new Map();
    for (const e of back) m.current.set(e.name, (m.current.get(e.name) ?? new Map<string, string>()).set(e.version, e.description));
    m.revisions.push(snapshot(m.current));
    return ['revert'];
  }
  const edits = rng.int(1, 3);
  for (let i = 0; i < edits; i++) {
    const names = [...m.current.keys()];
    const roll = rng.next();
    if (roll < 0.25 || names.length < 3) {
      addServer(m, rng, revision);
      done.push('add-server');
    } else if (roll < 0.55) {
      const name = rng.pick(names);
      const versions = m.current.get(name)!;
      const version = `1.${versions.size + rng.int(0, 50)}.${rng.int(0, 9)}`;
      if (!versions.has(version)) versions.set(version, describe(name, version, revision));
      done.push('add-version');
    } else if (roll < 0.7) {
      const name = rng.pick(names.filter((n) => m.current.get(n)!.size > 1).concat(names[0]!));
      const versions = m.current.get(name)!;
      if (versions.size > 1) versions.delete(rng.pick([...versions.keys()]));
      done.push('remove-version');
    } else if (roll < 0.8 && names.length > 3) {
      m.current.delete(rng.pick(names));
      done.push('remove-server');
    } else {
      const name = rng.pick(names);
      const versions = m.current.get(name)!;
      const version = rng.pick([...versions.keys()]);
      versions.set(version, describe(name, version, revision));
      done.push('edit');
    }
  }
  m.revisions.push(snapshot(m.current));
  return done;
}

/** The source document: an upstream registry API list envelope of the current revision. */
export function registryDocument(m: RegistryModel): string {
  const servers = [...m.current].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([name, versions]) =>
    [...versions].map(([version, description]) => ({
      server: {
        $schema: 'https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json',
        name,
        description,
        version,
        packages: [{ registryType: 'oci', identifier: `ghcr.io/chaos/${name.split('/')[1]}:${version}`, transport: { type: 'stdio' } }],
      },
      _meta: { 'io.modelcontextprotocol.registry/official': { status: 'active' } },
    })),
  );
  return JSON.stringify({ servers, metadata: { count: servers.length } });
}
