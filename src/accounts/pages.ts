/** A page of a keyset listing, and the cursor of the page after it (null on the last page). */
export interface Page<T, C> {
  rows: T[];
  next: C | null;
}

/**
 * One keyset page: `limit` clamped to 1…`max`, one row more asked of the store than is shown; that row, when it
 * comes, says there is a next page, which starts after the last row shown (`cursorOf`).
 */
export async function keysetPage<T, C>(
  limit: number,
  max: number,
  fetch: (limit: number) => Promise<T[]>,
  cursorOf: (row: T) => C,
): Promise<Page<T, C>> {
  const size = Math.min(Math.max(1, limit), max);
  const fetched = await fetch(size + 1);
  const rows = fetched.slice(0, size);
  return { rows, next: fetched.length > size ? cursorOf(rows[rows.length - 1]!) : null };
}
