import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  buildTestApp,
  databaseOfItsOwn,
  describeOneDatabase,
  PASSWORD,
  signupAccount,
  TEST_MFA_KEY,
} from '../helpers.js';
import { freePort, runCli } from './processes.js';
import { enrolTotp } from '../second-factor.js';

const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');

// One database: each command spawns a process (seconds under load), and what the commands do is tested on SQLite
// and PostgreSQL at the domain and HTTP level (admin.test.ts, second-factor.test.ts, reseal.test.ts). PostgreSQL
// when the run has it (always under CI=true), as production's several-instance database.
describeOneDatabase(
  'ras admin-keys, users list/search, users mfa-reset, secrets reseal (CLI)',
  (database) => {
    let app: FastifyInstance;
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const own = await databaseOfItsOwn(database);
      drop = own.drop;
      env = { DATABASE_URL: own.url, MFA_KEY: TEST_MFA_KEY };
      app = await buildTestApp(own.url, { MFA_KEY: TEST_MFA_KEY, ADMIN_PORT: String(await freePort()) });
    });
    afterAll(async () => {
      await app.close();
      await drop();
    });

    it('creates a key shown once, lists it without the key, and revokes it for the running server', async () => {
      const created = await runCli(
        ['admin-keys', 'create', 'ops', '--scopes', 'users:read,events:read'],
        env,
      );
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^ras_admin_[\w-]{43}$/);
      const call = () =>
        app.adminApp!.inject({ url: '/admin/v1/users/', headers: { authorization: `Bearer ${key}` } });
      expect((await call()).statusCode).toBe(200);
      const listed = await runCli(['admin-keys', 'list'], env);
      expect(JSON.parse(listed.stdout)).toMatchObject({ name: 'ops', scopes: ['users:read', 'events:read'] });
      expect(listed.stdout).not.toContain(key.slice(10));
      expect((await runCli(['admin-keys', 'create', 'ops', '--scopes', 'users:read'], env)).code).toBe(2);
      expect(
        (await runCli(['admin-keys', 'create', 'x', '--scopes', 'users:everything'], env)).stderr,
      ).toMatch(/scopes must be/);
      expect((await runCli(['admin-keys', 'revoke', 'ops'], env)).code).toBe(0);
      expect((await call()).statusCode).toBe(401);
      expect((await runCli(['admin-keys', 'revoke', 'ops'], env)).code).toBe(1);
    });

    it('lists and searches users in id order, page by page', async () => {
      const tag = `cli${Date.now()}`;
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await signupAccount(app, `${tag}-${i}@example.com`));
      const found = await runCli(['users', 'search', tag, '--limit', '2'], env);
      expect(
        found.stdout
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { id: number }).id),
      ).toEqual([made[0]!.id, made[1]!.id]);
      expect(found.stderr).toContain(`more: --after ${made[1]!.id}`);
      expect(found.stdout).not.toContain('argon2');
      const rest = await runCli(['users', 'search', tag, '--after', String(made[1]!.id)], env);
      expect(JSON.parse(rest.stdout)).toMatchObject({
        id: made[2]!.id,
        email: `${tag}-2@example.com`,
        mfa: false,
      });
      expect((await runCli(['users', 'list', '--limit', '1'], env)).stdout.trim().split('\n')).toHaveLength(
        1,
      );
    });

    it('removes the second factor of an owner who lost it, and reseals secrets after a key rotation', async () => {
      const account = await signupAccount(app);
      await enrolTotp(app, account);
      const resealed = await runCli(['secrets', 'reseal'], {
        ...env,
        MFA_KEY: OTHER_KEY,
        MFA_KEY_OLD: TEST_MFA_KEY,
      });
      expect(resealed.code, resealed.stderr).toBe(0);
      expect(resealed.stdout).toMatch(/resealed 1 TOTP secret\(s\)/);
      expect((await runCli(['secrets', 'reseal'], { ...env, MFA_KEY: OTHER_KEY })).stdout).toMatch(
        /resealed 0 TOTP/,
      );
      // Sealed under the new key now: the old one alone no longer opens it.
      expect((await runCli(['secrets', 'reseal'], env)).code).not.toBe(0);

      const reset = await runCli(['users', 'mfa-reset', account.email], env);
      expect(reset.code, reset.stderr).toBe(0);
      expect(reset.stdout).toContain('second factors of');
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: account.email, password: PASSWORD },
      });
      expect(login.json<{ message: string }>().message).toBe('you have successfully logged in');
      const events = await runCli(
        ['events', 'list', '--user', account.email, '--type', 'user.mfa.disabled'],
        env,
      );
      expect(JSON.parse(events.stdout)).toMatchObject({ type: 'user.mfa.disabled', actor: { type: 'cli' } });
    });
  },
);
