/**
 * RFC 3339 timestamps as the official registry parses them (Go's `time.RFC3339`): a date, an
 * upper-case `T`, a time with optional fractional seconds (up to nanoseconds), and `Z` or a
 * numeric offset. A date alone, a space instead of `T`, or a missing offset is not accepted.
 *
 * `instantKey` turns such a timestamp into a fixed-width string that sorts like the instant
 * it denotes (UTC seconds since year 1, then nine fractional digits), so that "strictly after"
 * is a plain string comparison that keeps sub-millisecond precision.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** seconds from 0001-01-01T00:00:00Z to the Unix epoch */
const YEAR_ONE_TO_EPOCH = 62_135_596_800;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
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
  const sinceYearOne = epochSeconds + YEAR_ONE_TO_EPOCH;
  if (sinceYearOne < 0) return null;
  return `${String(sinceYearOne).padStart(12, '0')}.${(frac ?? '').padEnd(9, '0')}`;
}

/** True when `text` is an RFC 3339 timestamp. */
export function isRfc3339(text: string): boolean {
  return instantKey(text) !== null;
}
