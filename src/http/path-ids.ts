import { MAX_ROW_ID } from './schemas.js';

/**
 * A path segment of digits as a number from 1 to 2^53−1 (leading zeros allowed, as Django's `<int:pk>` reads
 * it). Above that a number is no longer exact, so such a segment names no account and is refused like any
 * other non-id (404).
 */
export function positiveIntegerOf(segment: string | undefined): number | undefined {
  const value = segment !== undefined && /^\d+$/.test(segment) ? Number(segment) : 0;
  return value >= 1 && Number.isSafeInteger(value) ? value : undefined;
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
