import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { upstreamToToolhive } from '../../lib/formats/registry-conversion.ts';
import type { ServerJson, ServerResponse } from '../../lib/formats/upstream-schema.ts';
import { pickLatest, responseCandidate } from '../../lib/formats/versions.ts';
import { OFFICIAL_META } from '../../lib/api/entry.ts';
import { readPointer } from '../../lib/snapshots/read.ts';
import { publishSnapshot } from '../../lib/snapshots/publish.ts';
import type { RegistryRef } from '../../lib/snapshots/layout.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';

/**
 * Registries for the query API tests, built from the real upstream fixture
 * (ToolHive's converter output of 12 real servers) plus generated versions of each: older
 * releases, a pre-release, a deprecated and a deleted version, build metadata (`+`),
 * microsecond timestamps, and a few names that exercise search (`_`, case) and deletion.
 * Published with the real snapshot publisher into a real store.
 */

export const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real');

export function realServers(): ServerJson[] {
  const doc = JSON.parse(readFileSync(join(FIXTURES, 'thv-registry-server-upstream-registry.json'), 'utf8')) as { data: { servers: ServerJson[] } };
  return doc.data.servers;
}

type Status = 'active' | 'deprecated' | 'deleted';

function at(day: number, micros: number): string {
  const d = new Date(Date.UTC(2025, 0, 1) + day * 86_400_000);
  return `${d.toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

function withVersion(server: ServerJson, version: string): ServerJson {
  return { ...structuredClone(server), version };
}

function response(server: ServerJson, status: Status, publishedDay: number, micros: number, changedDay?: number): ServerResponse {
  const publishedAt = at(publishedDay, micros);
  const updatedAt = changedDay === undefined ? publishedAt : at(changedDay, micros + 1);
  return {
    server,
    _meta: {
      [OFFICIAL_META]: {
        status,
        publishedAt,
        updatedAt,
        ...(changedDay === undefined ? {} : { statusChangedAt: updatedAt }),
        isLatest: false,
      },
    },
  };
}

/** every version of the test registry, sorted by (name, version), one isLatest per name */
export function fixtureEntries(): ServerResponse[] {
  const out: ServerResponse[] = [];
  realServers().forEach((s, i) => {
    out.push(response(withVersion(s, '0.9.0'), 'active', i, 100 + i));
    out.push(response(s, 'active', 20 + i, 200 + i)); // 1.0.0, the real document
    out.push(response(withVersion(s, '1.1.0-beta.1'), i % 2 === 0 ? 'deprecated' : 'active', 40 + i, 300 + i, i % 2 === 0 ? 60 + i : undefined));
    if (i % 3 === 0) out.push(response(withVersion(s, '1.0.1+build.7'), 'active', 50 + i, 400 + i));
    if (i % 4 === 1) out.push(response(withVersion(s, '2.0.0'), 'deleted', 70 + i, 500 + i, 80 + i));
  });
  const base = realServers()[0]!;
  const extra = (name: string, version: string, status: Status, day: number) => response({ ...structuredClone(base), name, version, title: name.split('/')[1] }, status, day, 7, status === 'deleted' ? day + 1 : undefined);
  out.push(extra('io.github.test/my_server', '1.0.0', 'active', 90));
  out.push(extra('io.github.test/myXserver', '1.0.0', 'active', 91));
  out.push(extra('io.github.test/GitHub-Tools', '3.0.0', 'active', 92));
  out.push(extra('io.github.test/gone', '1.0.0', 'deleted', 93));
  out.push(extra('io.github.test/gone', '1.1.0', 'deleted', 94));

  const byName = new Map<string, ServerResponse[]>();
  for (const e of out) byName.set(e.server.name, [...(byName.get(e.server.name) ?? []), e]);
  for (const versions of byName.values()) {
    const latest = pickLatest(versions, responseCandidate)!;
    latest._meta![OFFICIAL_META]!.isLatest = true;
  }
  return out.sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
}

export interface BuiltSnapshot {
  upstream: Buffer;
  toolhive: Buffer;
  hash: string;
  servers: number;
  versions: number;
}

export function buildSnapshot(entries: ServerResponse[]): BuiltSnapshot {
  const upstream = Buffer.from(JSON.stringify({ servers: entries, metadata: { count: entries.length } }));
  const { registry } = upstreamToToolhive(entries, { lastUpdated: '2025-06-01T00:00:00Z' });
  const toolhive = Buffer.from(JSON.stringify(registry));
  const hash = createHash('sha256').update(upstream).update(toolhive).digest('hex');
  return { upstream, toolhive, hash, servers: new Set(entries.map((e) => e.server.name)).size, versions: entries.length };
}

/** Publishes entries as the registry's new snapshot (over whatever pointer it has). */
export async function publishEntries(store: SnapshotStore, ref: RegistryRef, entries: ServerResponse[], extra: { revision?: string } = {}): Promise<BuiltSnapshot> {
  const snap = buildSnapshot(entries);
  await publishBytes(store, ref, snap, extra);
  return snap;
}

export async function publishBytes(store: SnapshotStore, ref: RegistryRef, snap: BuiltSnapshot, extra: { revision?: string; displayName?: string; description?: string } = {}): Promise<void> {
  const previous = await readPointer(store, ref);
  await publishSnapshot(store, ref, {
    hash: snap.hash,
    files: { upstream: snap.upstream, toolhive: snap.toolhive },
    expectedPointerEtag: previous?.etag ?? null,
    pointer: {
      format: 'upstream',
      filterHash: 'none',
      syncedAt: new Date().toISOString(),
      ...(extra.revision ? { revision: extra.revision } : {}),
      ...(extra.displayName ? { displayName: extra.displayName } : {}),
      ...(extra.description ? { description: extra.description } : {}),
      counts: { servers: snap.servers, versions: snap.versions, invalid: 0, filteredOut: 0 },
    },
  });
}

/**
 * The real ToolHive registry as a published registry: its registry.json as toolhive.json and
 * its upstream conversion (every server latest and active) as upstream.json.
 */
export async function publishRealToolhive(store: SnapshotStore, ref: RegistryRef, extra: { revision?: string; displayName?: string; description?: string } = {}): Promise<void> {
  const { toolhiveToUpstream } = await import('../../lib/formats/registry-conversion.ts');
  const toolhive = readFileSync(join(FIXTURES, 'toolhive-registry.2026-02-20.json'));
  const responses: ServerResponse[] = toolhiveToUpstream(JSON.parse(toolhive.toString('utf8')))
    .map((server) => ({ server, _meta: { [OFFICIAL_META]: { status: 'active' as const, publishedAt: '2026-02-20T00:21:11Z', updatedAt: '2026-02-20T00:21:11Z', isLatest: true } } }))
    .sort((a, b) => (a.server.name < b.server.name ? -1 : 1));
  const upstream = Buffer.from(JSON.stringify({ servers: responses, metadata: { count: responses.length } }));
  const hash = createHash('sha256').update(upstream).update(toolhive).digest('hex');
  await publishBytes(store, ref, { upstream, toolhive, hash, servers: responses.length, versions: responses.length }, extra);
}
