import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  loginAccount,
  PASSWORD,
  signupAccount,
  uniqueEmail,
} from '../helpers.js';
import { runCli } from './processes.js';

describeEachDatabase('ras users (CLI) while the server runs', (database) => {
  let app: FastifyInstance;
  let env: Record<string, string>;
  beforeAll(async () => {
    const url = database.url();
    env = { DATABASE_URL: url };
    app = await buildTestApp(url);
  });
  afterAll(() => app.close());

  const me = (id: number, token: string) =>
    app.inject({ url: `/api/v1/users/${id}/`, headers: authHeader(token) });
  const login = (email: string) =>
    app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password: PASSWORD } });

  it('deactivates an account: every token is refused on the next request, login answers 404', async () => {
    const account = await signupAccount(app);
    const second = await loginAccount(app, account.email);
    expect((await me(account.id, account.token)).statusCode).toBe(200);

    const result = await runCli(['users', 'deactivate', account.email.toUpperCase()], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('deactivated');

    for (const token of [account.token, second]) {
      const res = await me(account.id, token);
      expect(res.statusCode).toBe(401);
      expect(res.body).toBe('{"message":"Invalid Token"}');
    }
    expect((await login(account.email)).body).toBe(
      '{"status_code":404,"message":"This account has been deactivated"}',
    );

    const shown = await runCli(['users', 'show', account.email], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: account.id,
      email: account.email,
      is_active: false,
      sessions: 0,
    });
    expect(shown.stdout).not.toContain('argon2');
  });

  it('activates it again: login works, old tokens stay ended', async () => {
    const account = await signupAccount(app);
    expect((await runCli(['users', 'deactivate', account.email], env)).code).toBe(0);
    expect((await runCli(['users', 'activate', account.email], env)).code).toBe(0);
    expect((await login(account.email)).statusCode).toBe(200);
    expect((await me(account.id, account.token)).statusCode).toBe(401);
  });

  it('lists sessions without tokens and logs an account out everywhere', async () => {
    const account = await signupAccount(app);
    await loginAccount(app, account.email);
    const listed = await runCli(['users', 'sessions', account.email], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(listed.stdout).not.toContain('ras_');
    expect(JSON.parse(lines[0] ?? '{}')).toHaveProperty('created_at');

    const ended = await runCli(['users', 'logout-all', account.email], env);
    expect(ended.stdout).toContain('ended 2 session(s)');
    expect((await me(account.id, account.token)).statusCode).toBe(401);
    expect((await login(account.email)).statusCode).toBe(200);
  });

  it('sets a password from standard input (never argv): the policy applies, every session ends', async () => {
    const account = await signupAccount(app);
    const weak = await runCli(['users', 'set-password', account.email], env, 'password\n');
    expect(weak.code).not.toBe(0);
    expect(weak.stderr).toMatch(/too common/);
    const set = await runCli(['users', 'set-password', account.email], env, 'an operator chose this one\n');
    expect(set.code, set.stderr).toBe(0);
    expect((await me(account.id, account.token)).statusCode).toBe(401);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: account.email, password: 'an operator chose this one' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('prints a working reset link, verifies an email, deletes an account', async () => {
    const account = await signupAccount(app);
    const link = await runCli(['users', 'reset-link', account.email], {
      ...env,
      RESET_URL: 'https://app.example.com/reset?token={token}',
    });
    expect(link.code, link.stderr).toBe(0);
    const token = /token=(ras_reset_[\w-]+)/.exec(link.stdout)?.[1];
    expect(token).toBeDefined();
    const reset = await app.inject({
      method: 'POST',
      url: '/api/v1/users/password/reset/confirm/',
      payload: { token, new_password: 'reset by the operator link' },
    });
    expect(reset.statusCode).toBe(200);
    expect((await runCli(['users', 'verify-email', account.email], env)).code).toBe(0);
    const view = await app.inject({
      url: `/api/v1/users/${account.id}/account/`,
      headers: authHeader(await loginAccount(app, account.email, 'reset by the operator link')),
    });
    expect(view.json<{ result: { email_verified: boolean } }>().result.email_verified).toBe(true);
    expect((await runCli(['users', 'delete', account.email], env)).code).toBe(0);
    expect((await runCli(['users', 'show', account.email], env)).code).toBe(1);
  });

  it('says when there is nothing to do: already deactivated, no session', async () => {
    const account = await signupAccount(app);
    await runCli(['users', 'deactivate', account.email], env);
    const again = await runCli(['users', 'deactivate', account.email], env);
    expect(again.stdout).toMatch(/was already deactivated/);
    const none = await runCli(['users', 'sessions', account.email], env);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/has no live session/);
  });

  it('exits 1 with a clear message for an unknown email', async () => {
    const result = await runCli(['users', 'deactivate', uniqueEmail('nobody')], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no account with email/);
  });
});

it('tells its version and exit codes, and warns before creating a new, empty SQLite database', async () => {
  expect((await runCli(['--version'], {})).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  expect((await runCli(['--help'], {})).stdout).toMatch(
    /Exit codes: 0 done, 1 no such account, 2 usage error/,
  );
  const fresh = await runCli(['users', 'show', 'a@example.com'], {
    DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'ras-cli-')), 'ras.db')}`,
  });
  expect(fresh.stderr).toMatch(/warning: no database at .*creating a new, empty one/);
});

it('exits 69 when the database cannot be reached, 78 for bad configuration, 2 for bad usage', async () => {
  const unreachable = await runCli(['users', 'show', 'a@example.com'], {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
  });
  expect(unreachable.code).toBe(69);
  expect(unreachable.stderr).toMatch(/cannot reach the database/);
  const badConfig = await runCli(['users', 'show', 'a@example.com'], { DATABASE_URL: 'mysql://x' });
  expect(badConfig.code).toBe(78);
  expect(badConfig.stderr).toMatch(/DATABASE_URL/);
  expect((await runCli(['users', 'frobnicate'], {})).code).toBe(2);
});
