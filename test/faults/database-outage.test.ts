import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  PASSWORD,
  privatePostgresDatabase,
  signupAccount,
  type TestAccount,
  uniqueEmail,
} from '../helpers.js';

const UNAVAILABLE = '{"status_code":503,"message":"service temporarily unavailable, please try again"}';

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe.runIf(inject('postgresAdminUrl'))(
  'PostgreSQL goes away: fail closed, recover without restart',
  () => {
    let app: FastifyInstance;
    let admin: pg.Client;
    let drop: () => Promise<void>;
    let name: string;
    let account: TestAccount;
    beforeAll(async () => {
      const db = await privatePostgresDatabase();
      ({ admin, drop } = db);
      name = new URL(db.url).pathname.slice(1);
      app = await buildTestApp(db.url);
      account = await signupAccount(app);
    });
    afterAll(async () => {
      await admin.query(`alter database ${name} with allow_connections true`);
      await app.close();
      await drop();
    });

    const me = () => app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(account.token) });

    it('answers 503 in the envelope within a second while the database refuses connections, then serves again', async () => {
      expect((await me()).statusCode).toBe(200);
      await admin.query(`alter database ${name} with allow_connections false`);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);

      for (let i = 0; i < 3; i++) {
        const { result, ms } = await timed(me);
        expect(result.statusCode).toBe(503);
        expect(result.body).toBe(UNAVAILABLE);
        expect(ms).toBeLessThan(1000);
      }
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: account.email, password: PASSWORD },
      });
      expect(login.body).toBe(UNAVAILABLE);
      const signup = await app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail(), password: PASSWORD },
      });
      expect(signup.body).toBe(UNAVAILABLE);
      const { result: health, ms } = await timed(() => app.inject({ url: '/healthz' }));
      expect(health.statusCode).toBe(503);
      expect(ms).toBeLessThan(1500);

      await admin.query(`alter database ${name} with allow_connections true`);
      expect((await me()).statusCode).toBe(200);
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    });
  },
);

function canMakeImmutable(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'ras-chattr-'));
  try {
    execFileSync('touch', [join(dir, 'f')]);
    execFileSync('chattr', ['+i', join(dir, 'f')], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', join(dir, 'f')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const immutable = canMakeImmutable();
if (!immutable)
  console.warn(
    '\n!!! chattr +i is not available (needs root on ext4): the SQLite read-only test is SKIPPED\n',
  );

describe.runIf(immutable)('SQLite file becomes read-only: fail closed, recover without restart', () => {
  let dir: string;
  let files: string[];
  let app: FastifyInstance;
  let account: TestAccount;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ras-ro-'));
    const file = join(dir, 'ras.db');
    app = await buildTestApp(`sqlite:${file}`);
    account = await signupAccount(app);
    // The database and its WAL, not the -shm index: SQLite maps that into memory, and an immutable mapping
    // ends the process with SIGBUS, which tests the kernel rather than Ras.
    files = [file, `${file}-wal`].filter((f) => existsSync(f));
  });
  afterAll(async () => {
    execFileSync('chattr', ['-i', ...files]);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers writes with 503 within a second, reads only when the token was really checked, then recovers', async () => {
    execFileSync('chattr', ['+i', ...files]);
    const { result: signup, ms } = await timed(() =>
      app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail(), password: PASSWORD },
      }),
    );
    expect(signup.body).toBe(UNAVAILABLE);
    expect(ms).toBeLessThan(1000);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: account.email, password: PASSWORD },
    });
    expect(login.body).toBe(UNAVAILABLE);
    // A read may still succeed on a read-only file: then the token was checked and 200 is right.
    const me = await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(account.token) });
    expect([200, 503]).toContain(me.statusCode);
    const stranger = await app.inject({
      url: `/api/v1/users/${account.id}/`,
      headers: authHeader('ras_' + 'x'.repeat(43)),
    });
    expect([401, 503]).toContain(stranger.statusCode);

    execFileSync('chattr', ['-i', ...files]);
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(again.statusCode).toBe(201);
  });
});
