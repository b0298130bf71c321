import { sql } from 'kysely';
import type { SourceDatabase } from './source.js';

/** A row of Django's user table, as the driver returns it. */
export interface DjangoUserRow {
  id: number | string;
  email: unknown;
  password: string | null;
  is_active: unknown;
  date_joined: unknown;
}

/** A Django REST Framework token, with its user's email (to attach it only to the very account imported). */
export interface DjangoTokenRow {
  key: string;
  created: unknown;
  user_id: number | string;
  email: unknown;
}

export interface DjangoTables {
  table: string;
  emailColumn: string;
  tokenTable: string;
  batchSize: number;
}

export async function countRows(source: SourceDatabase, table: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(
    source.db,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * A table read in key order, one batch per query, each query starting after the last key seen (keyset
 * pagination): memory stays bounded and no row is read twice, however large the table.
 */
async function* inKeyOrder<Row, Key>(
  start: Key,
  keyOf: (row: Row) => Key,
  fetch: (after: Key) => Promise<Row[]>,
): AsyncGenerator<Row[]> {
  for (let after = start; ;) {
    const rows = await fetch(after);
    if (rows.length === 0) return;
    yield rows;
    after = keyOf(rows.at(-1)!);
  }
}

/** The user table in id order, a batch at a time. */
export function userBatches(source: SourceDatabase, tables: DjangoTables): AsyncGenerator<DjangoUserRow[]> {
  // The first batch has no lower bound: zero and negative ids are read too, to be refused and reported.
  return inKeyOrder<DjangoUserRow, number | string | undefined>(
    undefined,
    (row: DjangoUserRow) => row.id,
    async (after) =>
      (
        await sql<DjangoUserRow>`
          select id, ${sql.ref(tables.emailColumn)} as email, password, is_active, date_joined
          from ${sql.table(tables.table)}
          ${after === undefined ? sql`` : sql`where id > ${after}`}
          order by id limit ${tables.batchSize}`.execute(source.db)
      ).rows,
  );
}

/** The DRF token table in key order, a batch at a time, each token with its user's email. */
export function tokenBatches(source: SourceDatabase, tables: DjangoTables): AsyncGenerator<DjangoTokenRow[]> {
  return inKeyOrder(
    '',
    (row: DjangoTokenRow) => row.key,
    async (after) =>
      (
        await sql<DjangoTokenRow>`
          select t.key, t.created, t.user_id, u.${sql.ref(tables.emailColumn)} as email
          from ${sql.table(tables.tokenTable)} t join ${sql.table(tables.table)} u on u.id = t.user_id
          where t.key > ${after} order by t.key limit ${tables.batchSize}`.execute(source.db)
      ).rows,
  );
}
