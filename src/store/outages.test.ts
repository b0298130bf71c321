import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { StoreUnavailableError } from '../accounts/storage.js';
import { type Database, openDatabase } from './database.js';

describe('driver failures reach callers as the domain sees them', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase('sqlite::memory:');
  });
  afterAll(() => database.close());

  it('passes a faulty query through as it is (a 500, a bug)', async () => {
    const failure = await sql`select * from no_such_table`.execute(database.db).catch((e: unknown) => e);
    expect(failure).not.toBeInstanceOf(StoreUnavailableError);
    expect(String(failure)).toMatch(/no such table/);
  });

  it('turns an unreachable PostgreSQL into StoreUnavailableError, within its connect timeout', async () => {
    const unreachable = await openDatabase('postgres://postgres@127.0.0.1:1/none');
    try {
      const started = performance.now();
      const failure = await sql`select 1`.execute(unreachable.db).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      await unreachable.close();
    }
  });
});
