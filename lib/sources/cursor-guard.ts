/**
 * What a paginated walk keeps of the cursors it followed: one sha256 digest per cursor, so a
 * peer that repeats a cursor is stopped without holding the cursors themselves (a peer could
 * send megabytes of cursor per page). Cursors are also capped in length.
 */
import { createHash } from 'node:crypto';

/** The longest cursor a walk follows, in characters. */
export const MAX_CURSOR_LENGTH = 4096;

export class CursorGuard {
  readonly #seen = new Set<string>();

  /** Records `cursor`; false when it was recorded before. */
  add(cursor: string): boolean {
    const digest = createHash('sha256').update(cursor).digest('base64');
    if (this.#seen.has(digest)) return false;
    this.#seen.add(digest);
    return true;
  }

  /** Whether `cursor` was recorded (without recording it). */
  has(cursor: string): boolean {
    return this.#seen.has(createHash('sha256').update(cursor).digest('base64'));
  }

  /** How many distinct cursors were recorded. */
  get size(): number {
    return this.#seen.size;
  }

  /** Characters held: the digests only (44 per cursor), whatever the cursors' length. */
  get heldChars(): number {
    let n = 0;
    for (const d of this.#seen) n += d.length;
    return n;
  }
}
