import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it, test } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { jobGoal, jobProgressLine, progressLine, syncedGoal, waitFor } from './wait.ts';

const registry = (status: Record<string, unknown>, generation = 1): KubeObject => ({ apiVersion: 'toolhive.stacklok.io/v1alpha1', kind: 'MCPRegistry', metadata: { name: 'r', namespace: 'ns', generation }, status });
const failing = { type: 'Synced', status: 'False', reason: 'SourceUnavailable', message: 'url https://x: ECONNREFUSED' };
const sequence = [
  registry({}),
  registry({ phase: 'Syncing', observedGeneration: 1 }),
  registry({ phase: 'Failed', observedGeneration: 1, syncAttempts: 1, conditions: [failing] }, 2),
  registry({ phase: 'Syncing', observedGeneration: 2, conditions: [failing] }, 2),
  registry({ phase: 'Ready', observedGeneration: 2, serverCount: 7, snapshot: { hash: 'ab'.repeat(32) }, conditions: [{ type: 'Synced', status: 'True', reason: 'Published' }] }, 2),
];

function stream(tty: boolean) {
  const s = new PassThrough();
  let text = '';
  s.setEncoding('utf8').on('data', (d: string) => (text += d));
  Object.assign(s, { isTTY: tty });
  return { s, text: () => text };
}

describe('--wait', () => {
  it('progress lines say the phase, the servers and the reason while failing', () => {
    assert.equal(progressLine(sequence[0]!), 'phase Pending');
    assert.equal(progressLine(sequence[2]!), 'phase Failed, failing: SourceUnavailable: url https://x: ECONNREFUSED');
    assert.equal(progressLine(sequence[4]!), 'phase Ready, 7 servers');
    assert.equal(progressLine(null), 'gone');
  });

  it('not a terminal: one plain line per change, the outcome returned for stdout', async () => {
    const err = stream(false);
    let i = 0;
    const out = await waitFor(syncedGoal('ns', 'r', 2), { read: async () => sequence[Math.min(i++, sequence.length - 1)]!, timeoutMs: 10_000, stderr: err.s, everyMs: 1 });
    assert.equal(out, `mcpregistry ns/r is Ready: 7 servers, snapshot ${'ab'.repeat(6)}\n`);
    assert.deepEqual(err.text().trimEnd().split('\n'), [
      'waiting for ns/r to be Ready: phase Pending',
      'waiting for ns/r to be Ready: phase Syncing',
      'waiting for ns/r to be Ready: phase Failed, failing: SourceUnavailable: url https://x: ECONNREFUSED',
      'waiting for ns/r to be Ready: phase Syncing, failing: SourceUnavailable: url https://x: ECONNREFUSED',
    ]);
  });

  it('a terminal: one line rewritten in place with the elapsed time, cleared at the end', async () => {
    const err = stream(true);
    let i = 0;
    await waitFor(syncedGoal('ns', 'r', 2), { read: async () => sequence[Math.min(i++, sequence.length - 1)]!, timeoutMs: 10_000, stderr: err.s, everyMs: 1 });
    const text = err.text();
    assert.ok(!text.includes('\n'), 'no new lines');
    assert.match(text, /^\r\x1b\[2K⠋ waiting for ns\/r to be Ready: phase Pending \(0s\)\r\x1b\[2K⠙ waiting for ns\/r to be Ready: phase Syncing \(0s\)/);
    assert.ok(text.endsWith('\r\x1b[2K'), 'the progress line is cleared');
  });

  it('a failed sync of the generation waited for: CliFailure with the status message', async () => {
    const err = stream(false);
    await assert.rejects(
      waitFor(syncedGoal('ns', 'r', 1), { read: async () => sequence[2]!, timeoutMs: 10_000, stderr: err.s, everyMs: 1 }),
      { name: 'CliFailure', exitCode: 1, message: 'mcpregistry ns/r: sync failed: SourceUnavailable: url https://x: ECONNREFUSED' },
    );
  });
});

test('jobGoal: done on Succeeded (ok) or Failed (not ok, with the message); the job progress line shows retries', () => {
  const job = (status: object) => ({ apiVersion: 'v1', kind: 'MCPRegistryExportJob', metadata: { name: 'j', namespace: 'ns' }, status }) as never;
  const goal = jobGoal('MCPRegistryExportJob', 'ns', 'j');
  assert.deepEqual(goal.judge(job({ phase: 'Running' })), { done: false });
  assert.deepEqual(goal.judge(job({ phase: 'Succeeded', result: { message: 'exported 3 servers' } })), { done: true, ok: true, message: 'mcpregistryexportjob ns/j succeeded: exported 3 servers' });
  assert.deepEqual(goal.judge(job({ phase: 'Failed', result: { message: 'forbidden' } })), { done: true, ok: false, message: 'mcpregistryexportjob ns/j failed: forbidden' });
  assert.equal(goal.judge(null).done, true);
  assert.equal(goal.progress!(job({ phase: 'Pending', failedAttempts: 1, nextAttemptTime: '2026-01-01T00:00:10Z', result: { message: 'no snapshot yet' } })), 'phase Pending, 1 failed attempts, next at 2026-01-01T00:00:10Z: no snapshot yet');
  assert.equal(jobProgressLine(job({})), 'phase Pending');
});
