import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseLocation } from '../config.js';
import { loadBetterSqlite3 } from '../store/sqlite-module.js';

/**
 * `ras backup <destination>`: a consistent copy of the SQLite database made with SQLite's online backup API,
 * page by page, while the server keeps reading and writing (it restarts on a write until it gets a clean
 * pass). PostgreSQL has its own tools for this (pg_dump, base backups); they are the ones to use there.
 */
export async function backupSqlite(location: DatabaseLocation, destination: string): Promise<void> {
  if (location.dialect !== 'sqlite' || location.filename === ':memory:') {
    throw new Error('ras backup copies a SQLite file; for PostgreSQL use pg_dump or pg_basebackup');
  }
  if (!existsSync(location.filename)) throw new Error(`no database at ${location.filename}`);
  if (existsSync(destination)) throw new Error(`${destination} exists already; choose a new file`);
  if (!existsSync(dirname(resolve(destination))))
    throw new Error(`the folder ${dirname(resolve(destination))} does not exist; create it first`);
  const SqliteDatabase = await loadBetterSqlite3();
  // The copy holds every password hash: created 0600 before SQLite writes a page into it.
  closeSync(openSync(destination, 'wx', 0o600));
  chmodSync(destination, 0o600);
  const db = new SqliteDatabase(location.filename, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const started = performance.now();
    const result = await db.backup(destination, {
      progress: ({ totalPages, remainingPages }) => {
        process.stderr.write(`\rbacking up: ${totalPages - remainingPages}/${totalPages} pages`);
        return 1000;
      },
    });
    // The copy carries the source's WAL mode; back to a rollback journal, it is one self-contained file.
    const check = new SqliteDatabase(destination);
    check.pragma('journal_mode = delete');
    const integrity = check.pragma('integrity_check', { simple: true });
    check.close();
    process.stderr.write('\n');
    if (integrity !== 'ok') throw new Error(`the copy failed SQLite's integrity check: ${String(integrity)}`);
    console.log(
      `backed up ${result.totalPages} pages to ${destination} in ${((performance.now() - started) / 1000).toFixed(1)} s (integrity check: ok)`,
    );
  } finally {
    db.close();
  }
}
