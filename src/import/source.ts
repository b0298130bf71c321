import { existsSync } from 'node:fs';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { loadBetterSqlite3 } from '../store/sqlite-module.js';

/** A Django database, opened for reading only. */
export interface SourceDatabase {
  // The source's tables are Django's, described by the queries themselves.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  close(): Promise<void>;
}

/** `--from` that is not one of the sources Ras reads (a usage error). */
export class SourceUrlError extends Error {}

/**
 * Opens the Django database at `url` so that nothing can change it: SQLite read-only (no journal-mode change,
 * no file created: a missing file is "file not found"), PostgreSQL and MySQL/MariaDB in read-only sessions.
 * Only the driver the URL names is loaded.
 */
export async function openSource(url: string): Promise<SourceDatabase> {
  if (url.startsWith('sqlite:')) return openSqliteSource(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresSource(url);
  if (/^(mysql|mariadb):\/\//.test(url)) return openMysqlSource(url);
  throw new SourceUrlError(
    `--from ${JSON.stringify(url)}: expected sqlite:<path>, postgres://…, mysql://… or mariadb://…`,
  );
}

async function openSqliteSource(filename: string): Promise<SourceDatabase> {
  if (filename === '' || !existsSync(filename)) throw new Error(`file not found: ${filename}`);
  const SqliteDatabase = await loadBetterSqlite3();
  const sqlite = new SqliteDatabase(filename, { readonly: true, fileMustExist: true });
  const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, close: () => db.destroy() };
}

async function openPostgresSource(url: string): Promise<SourceDatabase> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: 5000,
    // Every transaction of these sessions is read-only: a write would fail, not happen.
    options: '-c default_transaction_read_only=on',
  });
  pool.on('error', () => undefined);
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => db.destroy() };
}

async function openMysqlSource(url: string): Promise<SourceDatabase> {
  const { createPool } = await import('mysql2');
  const parsed = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const pool = createPool({
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    connectionLimit: 1,
    connectTimeout: 5000,
    // Django stores datetimes in UTC; read them as they are.
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  // Read-only sessions: a write would fail, not happen.
  pool.on('connection', (connection) => {
    connection.query('SET SESSION TRANSACTION READ ONLY');
  });
  const db = new Kysely({ dialect: new MysqlDialect({ pool }) });
  return { db, close: () => db.destroy() };
}
