export interface UntilOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** a probe that throws is asked again (an API server restarting, a port not open yet) */
  tolerateErrors?: boolean;
}

/** Polls until `probe` returns a value other than undefined; throws naming `what` at the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options: UntilOptions = {}): Promise<T> {
  const { timeoutMs = 15_000, everyMs = 50, tolerateErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = tolerateErrors ? await Promise.resolve().then(probe).catch(() => undefined) : await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
