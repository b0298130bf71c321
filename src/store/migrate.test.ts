import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

describe('migrations', () => {
  it('create the schema, are idempotent, and create no default account (ASVS 6.3.2)', async () => {
    const database = await openDatabase('sqlite::memory:');
    try {
      expect(await migrateToLatest(database.db)).toEqual([
        '0001-init',
        '0002-login-throttle',
        '0003-credentials-version',
        '0004-recovery',
        '0005-mail-requests',
        '0006-bigint-ids',
        '0007-events',
        '0008-second-factor',
        '0009-admin',
        '0010-passkeys',
      ]);
      expect(await migrateToLatest(database.db)).toEqual([]);
      const users = await database.db.selectFrom('users').select('id').execute();
      expect(users).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
