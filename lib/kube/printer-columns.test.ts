import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateJsonPath, humanDuration, printerCell, toJsonPathPlus } from './printer-columns.ts';

test('ages print as kubectl prints them', () => {
  const s = 1000;
  const cases: [number, string][] = [[-5 * s, '<invalid>'], [0, '0s'], [119 * s, '119s'], [150 * s, '2m30s'], [600 * s, '10m'], [3 * 3600 * s, '3h'], [5 * 3600 * s + 60 * s, '5h1m'], [30 * 3600 * s, '30h'], [3 * 86400 * s + 3600 * s, '3d1h'], [400 * 86400 * s, '400d'], [3 * 365 * 86400 * s + 2 * 86400 * s, '3y2d'], [10 * 365 * 86400 * s, '10y']];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});

test('Kubernetes JSONPath for printer columns', () => {
  assert.equal(toJsonPathPlus('.spec.x'), '$.spec.x');
  assert.equal(toJsonPathPlus('.metadata.labels.example\\.com/tier'), "$.metadata.labels['example.com/tier']");
  const o = { status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }] }, metadata: { labels: { 'example.com/tier': 'gold' } } };
  assert.deepEqual(evaluateJsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(evaluateJsonPath(o, '.metadata.labels.example\\.com/tier'), ['gold']);
  assert.deepEqual(evaluateJsonPath(o, '.spec.missing'), []);
});

test('printer cells: ages for dates, nothing for missing values, numbers as text', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const o = { metadata: { creationTimestamp: '2026-01-01T00:00:00Z' }, status: { serverCount: 0, conditions: [{ type: 'Ready', status: 'True' }] } };
  assert.equal(printerCell({ type: 'date', jsonPath: '.metadata.creationTimestamp' }, o, now), '60m');
  assert.equal(printerCell({ type: 'integer', jsonPath: '.status.serverCount' }, o, now), '0');
  assert.equal(printerCell({ type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' }, o, now), 'True');
  assert.equal(printerCell({ type: 'date', jsonPath: '.status.lastSyncTime' }, o, now), '');
});
