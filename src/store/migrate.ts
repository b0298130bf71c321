import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import * as init from './migrations/0001-init.js';
import * as loginThrottle from './migrations/0002-login-throttle.js';
import * as credentialsVersion from './migrations/0003-credentials-version.js';
import * as recovery from './migrations/0004-recovery.js';
import * as mailRequests from './migrations/0005-mail-requests.js';
import * as bigintIds from './migrations/0006-bigint-ids.js';
import * as events from './migrations/0007-events.js';
import * as secondFactor from './migrations/0008-second-factor.js';
import * as admin from './migrations/0009-admin.js';
import * as passkeys from './migrations/0010-passkeys.js';

/** Every migration, in order. Listed here rather than read from disk so the built package needs no file lookups. */
const migrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-login-throttle': loginThrottle,
  '0003-credentials-version': credentialsVersion,
  '0004-recovery': recovery,
  '0005-mail-requests': mailRequests,
  '0006-bigint-ids': bigintIds,
  '0007-events': events,
  '0008-second-factor': secondFactor,
  '0009-admin': admin,
  '0010-passkeys': passkeys,
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

const LATEST = Object.keys(migrations).sort().at(-1)!;

/** The names of every migration this build has. */
export function knownMigrations(): string[] {
  return Object.keys(migrations).sort();
}

/**
 * Resolves when the database answers and holds the schema this build needs (every migration applied): a
 * database dropped and recreated under a running server answers queries but has no tables.
 */
export async function checkSchema<Tables>(db: Kysely<Tables>): Promise<void> {
  const { rows } = await sql<{ name: string }>`select max(name) as name from kysely_migration`.execute(db);
  if (rows[0]?.name !== LATEST) throw new Error(`schema is at ${rows[0]?.name ?? 'nothing'}, not ${LATEST}`);
}
