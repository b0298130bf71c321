import { sql } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import { privatePostgresDatabase } from '../../test/helpers.js';
import { openSource, SourceUrlError } from './source.js';

describe('a Django source is opened read-only', () => {
  it('refuses writes on PostgreSQL', async () => {
    if (!inject('postgresAdminUrl')) return;
    const db = await privatePostgresDatabase();
    const source = await openSource(db.url);
    try {
      await expect(sql`create table t (x integer)`.execute(source.db)).rejects.toThrow(
        /read-only transaction/,
      );
    } finally {
      await source.close();
      await db.drop();
    }
  });

  it('refuses writes on MariaDB', async () => {
    const { createConnection } = await import('mysql2/promise');
    const admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' }).catch(() => null);
    if (!admin) {
      if (process.env.CI === 'true')
        throw new Error('CI=true but MariaDB is not reachable at 127.0.0.1:3306');
      return;
    }
    const name = `ras_ro_${Date.now()}`;
    await admin.query(`create database ${name}`);
    await admin.query(`create table ${name}.t (x integer)`);
    const source = await openSource(`mariadb://root@127.0.0.1:3306/${name}`);
    try {
      await expect(sql`insert into t values (1)`.execute(source.db)).rejects.toThrow(/READ ONLY/i);
    } finally {
      await source.close();
      await admin.query(`drop database ${name}`);
      await admin.end();
    }
  });

  it('names --from when the URL is not a source it reads', async () => {
    await expect(openSource('/srv/db.sqlite3')).rejects.toBeInstanceOf(SourceUrlError);
  });
});
