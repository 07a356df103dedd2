import { RegistryError } from '../errors.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/** Parses Go-style durations as used in the CRD (`30s`, `5m`, `1h30m`, `250ms`) to milliseconds. */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = text.trim();
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(PART)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    consumed += match[0].length;
  }
  if (trimmed.length === 0 || consumed !== trimmed.length || !Number.isFinite(total)) {
    throw new RegistryError('invalid_argument', `${JSON.stringify(text)} is not a duration (examples: 30s, 5m, 1h30m)`, {
      where: { path: field },
    });
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
