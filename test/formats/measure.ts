/**
 * Measures parse → convert → filter → hash of a generated upstream list envelope against
 * JSON.parse + JSON.stringify of the same bytes. Prints numbers; asserts nothing.
 * Usage: node test/formats/measure.ts [entries=10000]
 */
import { contentHash, parseRegistryDocument, upstreamToToolhive } from '../../lib/formats/index.ts';
import { filterServerResponses } from '../../lib/filter/index.ts';
import { generateServerList } from './generate.ts';

const count = Number(process.argv[2] ?? 10000);
const bytes = Buffer.from(JSON.stringify(generateServerList({ count })));
const rounds = 5;

function time(label: string, fn: () => void): number {
  fn(); // warm
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] as number;
  console.log(`${label.padEnd(40)} ${median.toFixed(1).padStart(8)} ms`);
  return median;
}

console.log(`${count} entries, ${(bytes.length / 1024 / 1024).toFixed(1)} MiB`);
const filter = { include: { tiers: ['official', 'community'] }, exclude: { names: ['*server-1*'] } };
const base = time('JSON.parse + JSON.stringify', () => {
  JSON.stringify(JSON.parse(bytes.toString('utf8')));
});
time('parseRegistryDocument (lenient)', () => {
  parseRegistryDocument(bytes, { mode: 'lenient' });
});
const parsed = parseRegistryDocument(bytes, { mode: 'lenient' });
time('upstreamToToolhive (latest per name)', () => {
  upstreamToToolhive(parsed.servers, { lastUpdated: '2026-01-01T00:00:00Z' });
});
time('filterServerResponses', () => {
  filterServerResponses(parsed.servers, filter);
});
time('contentHash (upstream list)', () => {
  contentHash({ servers: parsed.servers, metadata: { count: parsed.servers.length } });
});
for (const [label, spec] of [['a filter that keeps all', {}], ['a filter that keeps some', filter]] as const) {
  const total = time(`all, ${label}`, () => {
    const p = parseRegistryDocument(bytes, { mode: 'lenient' });
    const kept = filterServerResponses(p.servers, spec);
    const th = upstreamToToolhive(kept, { lastUpdated: '2026-01-01T00:00:00Z' });
    contentHash({ servers: kept, metadata: { count: kept.length } }, th.registry);
  });
  console.log(`  ratio to JSON.parse + JSON.stringify: ${(total / base).toFixed(2)}×`);
}
const mem = process.memoryUsage();
console.log(`rss ${(mem.rss / 1024 / 1024).toFixed(0)} MiB, heapUsed ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MiB`);
