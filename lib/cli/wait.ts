import type { KubeObject } from '../kube/objects.ts';
import { formatDuration } from '../sync/duration.ts';
import { CliFailure, oneLine } from './io.ts';
import { conditionOf, statusOf } from './registry-view.ts';

/**
 * `--wait`: polls a registry until an outcome, showing progress on stderr — one line
 * rewritten in place on a terminal (phase, servers, the reason while failing, elapsed time),
 * a plain line per change otherwise — and returns the outcome line for stdout; a failed sync
 * or the timeout is a CliFailure (exit 1) carrying the status message.
 */

export type Verdict = { done: true; ok: true; message: string } | { done: true; ok: false; message: string } | { done: false };

/** What is being waited for: judge one observation of the object (null: it is gone). */
export interface WaitGoal {
  /** `default/toolhive to be Ready` */
  what: string;
  judge(object: KubeObject | null): Verdict;
  /** the progress line for one observation (default: a registry's, progressLine) */
  progress?(object: KubeObject | null): string;
}

const ref = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** One line of progress for a registry as it is now. Pure. */
export function progressLine(o: KubeObject | null): string {
  if (!o) return 'gone';
  const st = statusOf(o);
  const parts = [`phase ${o.metadata.deletionTimestamp ? 'Deleting' : (st.phase ?? 'Pending')}`];
  if (st.serverCount !== undefined) parts.push(`${st.serverCount} servers`);
  const synced = conditionOf(o, 'Synced');
  if (synced?.status === 'False') parts.push(`failing: ${synced.reason}: ${oneLine(synced.message ?? '').slice(0, 200)}`);
  else if (st.syncAttempts) parts.push(`${st.syncAttempts} failed attempts`);
  return parts.join(', ');
}

function summary(o: KubeObject): string {
  const st = statusOf(o);
  return `${st.serverCount ?? 0} servers, snapshot ${st.snapshot?.hash.slice(0, 12) ?? '<none>'}`;
}

/** The sync of generation `generation` (or later) finished: Ready, or failed with the Synced message. */
export function syncedGoal(namespace: string, name: string, generation: number): WaitGoal {
  return {
    what: `${namespace}/${name} to be Ready`,
    judge(o) {
      if (!o) return { done: true, ok: false, message: `mcpregistry "${name}" in namespace "${namespace}" was deleted while waiting` };
      const st = statusOf(o);
      if ((st.observedGeneration ?? -1) < generation || st.phase === 'Syncing' || st.phase === undefined || st.phase === 'Pending') return { done: false };
      return outcome(o);
    },
  };
}

/** The sync that acted on trigger value `trigger` finished. */
export function triggerGoal(namespace: string, name: string, trigger: string): WaitGoal {
  return {
    what: `${namespace}/${name} to sync`,
    judge(o) {
      if (!o) return { done: true, ok: false, message: `mcpregistry "${name}" in namespace "${namespace}" was deleted while waiting` };
      if (statusOf(o).lastManualSyncTrigger !== trigger) return { done: false };
      return outcome(o);
    },
  };
}

function outcome(o: KubeObject): Verdict {
  const synced = conditionOf(o, 'Synced');
  if (synced?.status === 'False') {
    const stale = conditionOf(o, 'Ready')?.status === 'True' ? `; the last good snapshot (${statusOf(o).snapshot?.hash.slice(0, 12)}) keeps serving` : '';
    return { done: true, ok: false, message: `mcpregistry ${ref(o)}: sync failed: ${synced.reason}: ${synced.message ?? ''}${stale}` };
  }
  return { done: true, ok: true, message: `mcpregistry ${ref(o)} is Ready: ${summary(o)}` };
}

/** The object is gone (its finalizer ran: the sync function deleted its snapshots). */
export function goneGoal(namespace: string, name: string): WaitGoal {
  return {
    what: `${namespace}/${name} to be deleted`,
    judge: (o) => (o ? { done: false } : { done: true, ok: true, message: `mcpregistry ${namespace}/${name} deleted (its snapshots are removed)` }),
  };
}

interface JobStatusView {
  phase?: string;
  failedAttempts?: number;
  nextAttemptTime?: string;
  result?: { message?: string; serverCount?: number };
}

/** One line of progress for an import or export job as it is now. Pure. */
export function jobProgressLine(o: KubeObject | null): string {
  if (!o) return 'gone';
  const st = (o.status ?? {}) as JobStatusView;
  const parts = [`phase ${st.phase ?? 'Pending'}`];
  if (st.failedAttempts) parts.push(`${st.failedAttempts} failed attempts${st.nextAttemptTime ? `, next at ${st.nextAttemptTime}` : ''}: ${oneLine(st.result?.message ?? '').slice(0, 200)}`);
  return parts.join(', ');
}

/** An import or export job finished: Succeeded (exit 0) or Failed (exit 1, with its message). */
export function jobGoal(kind: string, namespace: string, name: string): WaitGoal {
  const label = kind.toLowerCase();
  return {
    what: `${label} ${namespace}/${name} to finish`,
    progress: jobProgressLine,
    judge(o) {
      if (!o) return { done: true, ok: false, message: `${label} "${name}" in namespace "${namespace}" was deleted while waiting` };
      const st = (o.status ?? {}) as JobStatusView;
      const message = oneLine(st.result?.message ?? '');
      if (st.phase === 'Succeeded') return { done: true, ok: true, message: `${label} ${namespace}/${name} succeeded: ${message}` };
      if (st.phase === 'Failed') return { done: true, ok: false, message: `${label} ${namespace}/${name} failed: ${message}` };
      return { done: false };
    },
  };
}

export interface WaitOptions {
  read(): Promise<KubeObject | null>;
  timeoutMs: number;
  stderr: NodeJS.WritableStream;
  /** poll period (default 250 ms) */
  everyMs?: number;
  now?: () => number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export async function waitFor(goal: WaitGoal, options: WaitOptions): Promise<string> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const tty = (options.stderr as { isTTY?: boolean }).isTTY === true;
  let last = '';
  let frame = 0;
  const clear = () => {
    if (tty && last) options.stderr.write('\r\x1b[2K');
  };
  try {
    for (;;) {
      const object = await options.read();
      const verdict = goal.judge(object);
      const line = (goal.progress ?? progressLine)(object);
      if (verdict.done) {
        clear();
        if (!verdict.ok) throw new CliFailure(verdict.message);
        return `${verdict.message}\n`;
      }
      const elapsed = Math.round((now() - started) / 1000);
      if (tty) {
        options.stderr.write(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} waiting for ${goal.what}: ${line} (${elapsed}s)`);
        last = line;
      } else if (line !== last) {
        options.stderr.write(`waiting for ${goal.what}: ${line}\n`);
        last = line;
      }
      if (now() - started >= options.timeoutMs) {
        clear();
        throw new CliFailure(`timed out after ${formatDuration(options.timeoutMs)} waiting for ${goal.what} (${line})`);
      }
      await new Promise((r) => setTimeout(r, options.everyMs ?? 250));
    }
  } finally {
    if (tty && last) options.stderr.write('\r\x1b[2K');
  }
}
