import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import type { Tables } from './schema.js';
import { RasSqliteDialect } from './sqlite-dialect.js';
import { loadBetterSqlite3 } from './sqlite-module.js';

export type DatabaseLocation =
  { dialect: 'sqlite'; filename: string } | { dialect: 'postgres'; connectionString: string };

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
  /** How long to wait for a PostgreSQL connection before the request fails with 503. */
  connectTimeoutMs?: number;
}

/** Reads `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; anything else is a configuration error. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    if (filename === '') throw new Error('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/ras.db');
    return { dialect: 'sqlite', filename };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', connectionString: url };
  throw new Error('DATABASE_URL must start with sqlite: or postgres://');
}

/** Opens the database; only the driver its dialect needs is loaded (each costs 6–16 MB of memory). */
export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const location = parseDatabaseUrl(url);
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
  const db = new Kysely<Tables>({ dialect: new RasSqliteDialect(sqlite) });
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

// BIGINT (oid 20) arrives as a string by default; every BIGINT here is a millisecond time, well inside 2^53.
const BIGINT_OID = 20;
const parseBigint = (value: string): number => Number(value);

async function openPostgres(
  location: { connectionString: string },
  { poolMax = 10, connectTimeoutMs = 1000 }: DatabaseOptions,
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
    connectionTimeoutMillis: connectTimeoutMs,
    types: pgTypes,
  });
  // A client whose server went away emits 'error': on the pool while idle, on the client itself while checked
  // out (a socket reset can arrive after its query failed, before Kysely releases it). Unhandled, either one
  // would end the process. The failed query already carries the error; the pool drops the dead client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const poolUse = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  return { db, dialect: 'postgres', poolUse, close: () => db.destroy() };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_FULL',
  'SQLITE_PERM',
  '3D000', // the database does not exist (dropped, or not created yet)
  '28000', // login refused
  '28P01', // password refused
]);

/**
 * PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong query": 08 connection exception,
 * 53 insufficient resources (too many connections, disk full), 57 operator intervention (shutdown, a
 * terminated backend, a cancelled statement).
 */
const UNAVAILABLE_CLASSES = ['08', '53', '57'];

/** True when the error says the database cannot be reached or written now, as opposed to a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR'))
      return true;
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error|not currently accepting connections/i.test(
    error.message,
  );
}

/** True when an insert lost to a unique index (the database decided; no read-then-write race). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
