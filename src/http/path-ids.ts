import { MAX_ROW_ID } from './schemas.js';

/**
 * A path segment of digits as a number ≥ 1 (leading zeros allowed, as Django's `<int:pk>` reads it). Above
 * 2^53−1 a number is no longer exact, and no id is that large: such a segment is Infinity, which equals no
 * account's id (a foreign id, 403, as the seed answers it) and is never looked up.
 */
export function positiveIntegerOf(segment: string | undefined): number | undefined {
  const value = segment !== undefined && /^\d+$/.test(segment) ? Number(segment) : 0;
  if (value < 1) return undefined;
  return Number.isSafeInteger(value) ? value : Number.POSITIVE_INFINITY;
}

/**
 * A path segment that names a row to look up: a positive integer up to MAX_ROW_ID, or undefined. Anything
 * above cannot exist and must not reach SQL. (A user id in the path is only compared with the session's, so
 * any positive integer up to 2^53−1 is a valid one: a foreign id is 403, not 404, as the seed answers it.)
 */
export function rowIdOf(segment: string | undefined): number | undefined {
  const value = positiveIntegerOf(segment);
  return value !== undefined && value <= MAX_ROW_ID ? value : undefined;
}
