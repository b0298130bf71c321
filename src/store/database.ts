import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import { type DatabaseLocation, parseDatabaseUrl } from '../config.js';
import { reportingOutages } from './outages.js';
import { PreparingPool } from './prepared-statements.js';
import type { Tables } from './schema.js';
import { RasSqliteDialect } from './sqlite-dialect.js';
import { loadBetterSqlite3 } from './sqlite-module.js';

export interface Database {
  db: Kysely<Tables>;
  dialect: DatabaseLocation['dialect'];
  /** PostgreSQL pool use, for metrics; null on SQLite. */
  poolUse(): { total: number; idle: number; waiting: number } | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Connections in the PostgreSQL pool. */
  poolMax?: number;
}

/** How long to wait for a PostgreSQL connection before the request fails with 503. */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * Opens the database; only the driver its dialect needs is loaded (each costs 6–16 MB of memory). Driver
 * failures that mean an outage reach callers as `StoreUnavailableError` (outages.ts).
 */
export async function openDatabase(
  where: DatabaseLocation | string,
  options: DatabaseOptions = {},
): Promise<Database> {
  const location = typeof where === 'string' ? parseDatabaseUrl(where) : where;
  return location.dialect === 'sqlite' ? openSqlite(location.filename) : openPostgres(location, options);
}

async function openSqlite(filename: string): Promise<Database> {
  const SqliteDatabase = await loadBetterSqlite3();
  if (filename !== ':memory:') createPrivately(filename);
  const sqlite = new SqliteDatabase(filename);
  // WAL lets the CLI (another process) write while the server reads and writes; the busy timeout makes
  // a writer wait for the lock instead of failing with SQLITE_BUSY. FULL sync: a commit survives power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Tables>({ dialect: reportingOutages(new RasSqliteDialect(sqlite)) });
  return { db, dialect: 'sqlite', poolUse: () => null, close: () => db.destroy() };
}

/**
 * Password hashes and token hashes are private: a folder Ras creates for the database is 0700 and the file
 * 0600, whatever the umask (SQLite gives its -wal and -shm files the database file's mode).
 */
export function createPrivately(filename: string): void {
  const folder = dirname(filename);
  if (!existsSync(folder)) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, 0o700);
  }
  closeSync(openSync(filename, 'a', 0o600));
  chmodSync(filename, 0o600);
}

// BIGINT (oid 20) arrives as a string by default; every BIGINT here is a millisecond time or an id, both kept
// within 2^53−1 (ids above are refused by the API and the import), so a number is exact.
const BIGINT_OID = 20;
const parseBigint = (value: string): number => Number(value);

async function openPostgres(
  location: { connectionString: string },
  { poolMax = 10 }: DatabaseOptions,
): Promise<Database> {
  const { default: pg } = await import('pg');
  const pgTypes = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
      oid === BIGINT_OID
        ? parseBigint
        : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max: poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: pgTypes,
  });
  // A client whose server went away emits 'error': on the pool while idle, on the client itself while checked
  // out (a socket reset can arrive after its query failed, before Kysely releases it). Unhandled, either one
  // would end the process. The failed query already carries the error; the pool drops the dead client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Tables>({
    dialect: reportingOutages(new PostgresDialect({ pool: new PreparingPool(pool) })),
  });
  const poolUse = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  return { db, dialect: 'postgres', poolUse, close: () => db.destroy() };
}
