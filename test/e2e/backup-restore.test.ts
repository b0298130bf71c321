/**
 * `ras backup` under write load and `ras restore` (issue 23), with the real server and the real CLI: every
 * write acknowledged before the backup began is in the restored database; restore refuses while a server has
 * the database open, refuses a damaged or foreign file, and keeps the database it replaces.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../helpers.js';
import { runCli, startServer } from './processes.js';

interface Acknowledged {
  id: number;
  token: string;
  at: number;
}

describe('ras backup and ras restore (SQLite)', () => {
  it('restores every write acknowledged before a backup taken under write load; refuses while a server runs', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ras-restore-'));
    const env = { DATABASE_URL: `sqlite:${join(folder, 'ras.db')}`, RATE_LIMIT: 'off', LOG_LEVEL: 'info' };
    let server = await startServer(env);
    const acknowledged: Acknowledged[] = [];
    let writing = true;
    const writer = async () => {
      while (writing) {
        const res = await fetch(`${server.url}/api/v1/users/signup/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: uniqueEmail('restore'), password: PASSWORD }),
        });
        const { result } = (await res.json()) as { result: { id: number; auth_token: string } };
        acknowledged.push({ id: result.id, token: result.auth_token, at: performance.now() });
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 20));

    const backupStarted = performance.now();
    const backup = join(folder, 'backup.db');
    const backedUp = await runCli(['backup', backup], env);
    const duringBackup = acknowledged.filter((a) => a.at > backupStarted).length;
    writing = false;
    await Promise.all(writers);
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(duringBackup).toBeGreaterThan(0); // the backup really ran under writes

    const refused = await runCli(['restore', backup], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is in use');

    await server.stop();
    const restored = await runCli(['restore', backup], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('integrity check ok');
    expect(readdirSync(folder).some((name) => name.startsWith('ras.db.before-restore-'))).toBe(true);

    server = await startServer(env);
    try {
      const before = acknowledged.filter((a) => a.at < backupStarted);
      for (const account of before) {
        const me = await fetch(`${server.url}/api/v1/users/${account.id}/`, {
          headers: { authorization: `Token ${account.token}` },
        });
        expect(me.status, `account ${account.id}`).toBe(200);
      }
      console.log(
        `backup under load: ${before.length} writes before it, ${duringBackup} during it; all ${before.length} restored`,
      );
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('refuses a file that is not a Ras database, and a missing one, leaving the database as it was', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ras-restore-bad-'));
    const env = { DATABASE_URL: `sqlite:${join(folder, 'ras.db')}` };
    const garbage = join(folder, 'garbage.db');
    writeFileSync(garbage, 'not a database at all, just text '.repeat(200));
    const bad = await runCli(['restore', garbage], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a Ras database');
    const missing = await runCli(['restore', join(folder, 'nowhere.db')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no backup at');
    expect(existsSync(join(folder, 'ras.db'))).toBe(false);
  });
});
