/**
 * The search index of a snapshot, built or loaded in a process of its own so that
 * `peak_rss_mb` is that step's alone: `node search-index-child.ts build|load TOOLHIVE_JSON
 * [INDEX_JSON]`. build: parse toolhive.json, index it (what the query function does on the
 * first search) and, with INDEX_JSON, also serialise the index there (what a sync would do).
 * load: parse toolhive.json and load the serialised index instead. One JSON line on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { indexToolhive } from '../../lib/api/toolhive-view.ts';
import { toolhiveSearchDocument } from '../../lib/search/documents.ts';
import { ServerSearchIndex } from '../../lib/search/server-index.ts';

const peakMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const [mode, toolhiveFile, indexFile] = process.argv.slice(2);
const baseline = peakMb();
const started = performance.now();
const parsed = indexToolhive(JSON.parse(readFileSync(toolhiveFile!, 'utf8')));
const parseMs = performance.now() - started;
let index: ServerSearchIndex;
let serializeMs = 0;
const t = performance.now();
if (mode === 'build') {
  index = await ServerSearchIndex.build(parsed.servers.map((s, i) => toolhiveSearchDocument(i, s.key, s.entry)));
} else {
  index = ServerSearchIndex.load(readFileSync(indexFile!, 'utf8'));
}
const indexMs = performance.now() - t;
const peak = peakMb();
let bytes = 0;
if (mode === 'build' && indexFile) {
  const s = performance.now();
  const json = index.serialize();
  serializeMs = performance.now() - s;
  bytes = Buffer.byteLength(json);
  writeFileSync(indexFile, json);
}
// the index answers (and is not optimised away)
const hits = index.search('database').length;
console.log(JSON.stringify({ mode, documents: index.size, parse_ms: parseMs, index_ms: indexMs, serialize_ms: serializeMs, index_bytes: bytes, peak_rss_mb: peak, baseline_rss_mb: baseline, hits }));
