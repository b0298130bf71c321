import { MAX_ROW_ID } from './schemas.js';

/** A path segment of digits as a number ≥ 1 (leading zeros allowed, as Django's `<int:pk>` reads it). */
export function positiveIntegerOf(segment: string | undefined): number | undefined {
  const value = segment !== undefined && /^\d+$/.test(segment) ? Number(segment) : 0;
  return value >= 1 ? value : undefined;
}

/**
 * A path segment that names a row to look up: a positive integer up to MAX_ROW_ID, or undefined. Anything
 * above cannot exist and must not reach SQL. (A user id in the path is only compared with the session's, so
 * any positive integer is a valid one: a foreign id is 403, not 404, as the seed answers it.)
 */
export function rowIdOf(segment: string | undefined): number | undefined {
  const value = positiveIntegerOf(segment);
  return value !== undefined && value <= MAX_ROW_ID ? value : undefined;
}
