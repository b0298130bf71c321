import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backupSqlite } from '../cli/backup.js';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('data at rest is private, whatever the umask', () => {
  let umask: number;
  beforeEach(() => {
    umask = process.umask(0o000);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    process.umask(umask);
    vi.restoreAllMocks();
  });

  it('creates the data folder 0700, the database and its -wal and -shm 0600, and backups 0600', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'ras-private-')), 'data');
    const file = join(folder, 'ras.db');
    const database = await openDatabase(`sqlite:${file}`);
    await migrateToLatest(database.db);
    expect(modeOf(folder)).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(path), path).toBe(true);
      expect(modeOf(path), path).toBe(0o600);
    }
    const copy = join(folder, 'backup.db');
    await backupSqlite({ dialect: 'sqlite', filename: file }, copy);
    expect(modeOf(copy)).toBe(0o600);
    expect(existsSync(`${copy}-wal`) || existsSync(`${copy}-shm`)).toBe(false);
    await expect(
      backupSqlite({ dialect: 'sqlite', filename: file }, join(folder, 'no', 'copy.db')),
    ).rejects.toThrow(/the folder .*no does not exist/);
    await database.close();
  });
});
