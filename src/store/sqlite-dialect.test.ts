/**
 * Guards the hot-path specialisations of sqlite-dialect.ts: each of these fails if a change (or a Kysely
 * upgrade that moves the driver internals it overrides) quietly loses one. The throughput they buy is in
 * bench/README.md ("Where the time went").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type CompiledQuery, Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { RasSqliteDialect } from './sqlite-dialect.js';
import { loadBetterSqlite3 } from './sqlite-module.js';

async function instrumented() {
  const SqliteDatabase = await loadBetterSqlite3();
  const sqlite = new SqliteDatabase(':memory:');
  const prepared: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = (source: string) => {
    prepared.push(source);
    return prepare(source);
  };
  const db = new Kysely<{ t: { v: number } }>({ dialect: new RasSqliteDialect(sqlite) });
  await sql`create table t (v integer)`.execute(db);
  return { db, prepared };
}

describe('the SQLite dialect keeps its specialisations', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(() => close?.());

  it('is written against Kysely 0.28 (its SqliteDriver internals are overridden; re-check them on an upgrade)', () => {
    // kysely's exports hide its package.json: find it from its entry point (…/kysely/dist/cjs/index.js).
    const entry = createRequire(import.meta.url).resolve('kysely');
    const root = entry.slice(0, entry.lastIndexOf('/dist/'));
    const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
    expect(version).toMatch(/^0\.28\./);
  });

  it('prepares each distinct statement once (statement cache)', async () => {
    const { db, prepared } = await instrumented();
    close = () => db.destroy();
    const query: CompiledQuery = db.selectFrom('t').selectAll().where('v', '=', 1).compile();
    for (let i = 0; i < 5; i++) await db.executeQuery(query);
    expect(prepared.filter((s) => s === query.sql)).toHaveLength(1);
  });

  it('begins every transaction with BEGIN IMMEDIATE (the write lock up front)', async () => {
    const { db, prepared } = await instrumented();
    close = () => db.destroy();
    await db.transaction().execute((tx) => tx.insertInto('t').values({ v: 1 }).execute());
    expect(prepared).toContain('begin immediate');
  });

  it('hands the connection to waiting queries in the order they asked (FIFO lock)', async () => {
    const { db } = await instrumented();
    close = () => db.destroy();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .insertInto('t')
          .values({ v: i })
          .execute()
          .then(() => order.push(i)),
      ),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
