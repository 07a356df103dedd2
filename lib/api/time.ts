/**
 * RFC 3339 timestamps (section 5.6), as the official registry accepts them with Go's
 * `time.RFC3339`: a date (years 0000–9999), an upper-case `T`, a time with optional fractional
 * seconds of any length, and `Z` or a numeric offset. A date alone, a space instead of `T`, or
 * a missing offset is not accepted. Decided where RFC 3339 and Go differ: like Go, a lower-case
 * `t`/`z` (which the RFC allows) and a leap second `:60` are refused, and digits beyond the
 * ninth (nanoseconds) are accepted but do not take part in ordering (Go truncates them too).
 * An instant before 0000-01-01T00:00:00Z (year 0000 with a positive offset) is refused.
 *
 * `instantKey` turns such a timestamp into a fixed-width string that sorts like the instant
 * it denotes (UTC seconds since year 0, then nine fractional digits), so that "strictly after"
 * is a plain string comparison that keeps sub-millisecond precision.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** seconds from 0000-01-01T00:00:00Z (proleptic Gregorian; year 0 is a leap year) to the Unix epoch */
const YEAR_ZERO_TO_EPOCH = 62_167_219_200;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** The sortable key of an RFC 3339 timestamp, or null when the text is not one. */
export function instantKey(text: string): string | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetSeconds = 0;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetSeconds = (oh * 3600 + om * 60) * (zone[0] === '-' ? -1 : 1);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, 0);
  const epochSeconds = utc.getTime() / 1000 - offsetSeconds;
  const sinceYearZero = epochSeconds + YEAR_ZERO_TO_EPOCH;
  if (sinceYearZero < 0) return null;
  return `${String(sinceYearZero).padStart(12, '0')}.${(frac ?? '').slice(0, 9).padEnd(9, '0')}`;
}

/** True when `text` is an RFC 3339 timestamp. */
export function isRfc3339(text: string): boolean {
  return instantKey(text) !== null;
}
