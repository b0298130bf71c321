import {
  chmodSync,
  copyFileSync,
  existsSync,
  openSync,
  fsyncSync,
  closeSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { DatabaseLocation } from '../config.js';
import { openDatabase } from '../store/database.js';
import { knownMigrations, migrateToLatest } from '../store/migrate.js';
import { loadBetterSqlite3 } from '../store/sqlite-module.js';

/** A server (or any other connection) has the database open: restoring under it would lose its writes. */
export class DatabaseInUseError extends Error {}

/**
 * `ras restore <backup>`: puts a `ras backup` copy in place of the SQLite database. It checks the copy first
 * (SQLite's integrity check, and a schema this build knows: every migration it applied is one of ours), then
 * refuses to go on while anything holds the database open (a running server: restoring under it would lose its
 * writes and hand it a file it did not expect), keeps the database it replaces beside it
 * (`<file>.before-restore-<time>`), and migrates the restored file to this build's schema. PostgreSQL has its
 * own tools (pg_restore, psql); they are the ones to use there.
 */
export async function restoreSqlite(
  location: DatabaseLocation,
  backup: string,
  now = new Date(),
): Promise<void> {
  if (location.dialect !== 'sqlite' || location.filename === ':memory:')
    throw new Error('ras restore puts back a SQLite file; for PostgreSQL use pg_restore or psql');
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`);
  const SqliteDatabase = await loadBetterSqlite3();
  const users = checkBackup(new SqliteDatabase(backup, { readonly: true, fileMustExist: true }));

  const target = resolve(location.filename);
  if (!existsSync(dirname(target)))
    throw new Error(`the folder ${dirname(target)} does not exist; create it first`);
  const kept = existsSync(target)
    ? `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`
    : null;
  if (kept) {
    // An exclusive lock, asked for without waiting: any other connection (a server, even idle) holds the file.
    const current = new SqliteDatabase(target, { timeout: 0 });
    try {
      current.pragma('locking_mode = EXCLUSIVE');
      current.exec('begin exclusive; commit');
    } catch (error) {
      current.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY')
        throw new DatabaseInUseError(
          `${target} is in use (is a Ras server running on it?): stop it, then restore`,
        );
      throw error;
    }
    // Closing the last connection checkpoints the WAL into the file: what is kept is whole.
    current.close();
    renameSync(target, kept);
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
  }
  // Copied under a temporary name and renamed: the database path never holds half a file.
  const staging = `${target}.restoring`;
  copyFileSync(backup, staging);
  chmodSync(staging, 0o600);
  const fd = openSync(staging, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(staging, target);

  const database = await openDatabase(location);
  try {
    const applied = await migrateToLatest(database.db);
    console.log(
      `restored ${backup} to ${target}: ${users} accounts, integrity check ok` +
        (applied.length ? `, migrated (${applied.join(', ')})` : ', schema up to date') +
        (kept ? `; the database it replaced is kept as ${kept}` : ''),
    );
  } finally {
    await database.close();
  }
}

/** Checks the copy and returns how many accounts it holds. */
function checkBackup(copy: BetterSqlite3.Database): number {
  try {
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok')
      throw new Error(`the backup failed SQLite's integrity check: ${String(integrity)}`);
    const known = new Set(knownMigrations());
    const applied = (
      copy.prepare('select name from kysely_migration order by name').all() as { name: string }[]
    ).map((row) => row.name);
    const unknown = applied.filter((name) => !known.has(name));
    if (unknown.length > 0)
      throw new Error(
        `the backup has migrations this build does not know (${unknown.join(', ')}): restore it with a newer Ras`,
      );
    return (copy.prepare('select count(*) as n from users').get() as { n: number }).n;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_NOTADB' || /no such table/.test(String(error)))
      throw new Error('the backup is not a Ras database');
    throw error;
  } finally {
    copy.close();
  }
}
