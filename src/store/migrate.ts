import { type Kysely, type Migration, Migrator } from 'kysely';
import * as init from './migrations/0001-init.js';
import * as loginThrottle from './migrations/0002-login-throttle.js';

/** Every migration, in order. Listed here rather than read from disk so the built package needs no file lookups. */
const migrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-login-throttle': loginThrottle,
};

/**
 * Brings the schema to the latest version. Safe to run on every start and from several processes at once:
 * Kysely takes a lock (a row lock on PostgreSQL, the write lock on SQLite) and skips what already ran.
 */
export async function migrateToLatest<Tables>(db: Kysely<Tables>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
