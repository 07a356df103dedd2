/**
 * knative/optional's Grafana dashboard and Prometheus alert rules refer only to metrics the
 * functions export, by the names the Prometheus exporter gives them (dots as `_`, counters
 * with `_total`, histograms as `_bucket`/`_count`/`_sum`; test/telemetry/query-telemetry
 * scrapes a live /metrics with these names), and the three alerts of the issue exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRIC } from '../../lib/telemetry/metrics.ts';

const optional = join(import.meta.dirname, '..', '..', 'knative', 'optional');

function exported(): Set<string> {
  const names = new Set<string>();
  for (const m of Object.values(METRIC)) {
    const base = m.name.replace(/\./g, '_');
    if (m.type === 'counter') names.add(`${base}_total`);
    else if (m.type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(base + s);
    else names.add(base);
  }
  return names;
}

/** metric names in a PromQL expression: label matchers `{…}` and `by (…)` lists removed first */
function referenced(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/\bby \([^)]*\)/g, '');
  return [...bare.matchAll(/\b(mcpreg_[a-z_]+|http_server_[a-z_]+)\b/g)].map((m) => m[1]!);
}

test('the dashboard and the alert rules use exported metric names only; the three alerts are there', async () => {
  const names = exported();
  const dashboard = JSON.parse(await readFile(join(optional, 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  const rules = parse(await readFile(join(optional, 'prometheus-rules.yaml'), 'utf8')) as { kind: string; spec: { groups: Array<{ rules: Array<{ alert: string; expr: string; for?: string }> }> } };
  assert.equal(rules.kind, 'PrometheusRule');
  const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...rules.spec.groups.flatMap((g) => g.rules.map((r) => r.expr))];
  const used = new Set(exprs.flatMap(referenced));
  for (const name of used) assert.ok(names.has(name), `${name} is not an exported metric`);
  // every metric appears on the dashboard
  for (const m of Object.values(METRIC)) assert.ok([...used].some((u) => u.startsWith(m.name.replace(/\./g, '_'))), `${m.name} has no panel`);
  const alerts = Object.fromEntries(rules.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
  assert.match(alerts.MCPRegistrySyncFailing ?? '', /mcpreg_sync_consecutive_failures\) >= 3/);
  assert.match(alerts.MCPRegistrySyncSuccessRatioLow ?? '', /\[1h\][\s\S]*< 0\.99/);
  assert.match(alerts.MCPRegistryQueryLatencyHigh ?? '', /histogram_quantile\(0\.99,[\s\S]*> 0\.1/);
});
