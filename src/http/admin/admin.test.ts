import fc from 'fast-check';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAdminKey } from '../../accounts/admin-keys.js';
import { freePort } from '../../../test/e2e/processes.js';
import {
  authHeader,
  buildTestApp,
  databaseOfItsOwn,
  describeEachDatabase,
  OPERATOR,
  PASSWORD,
  signupAccount,
  uniqueEmail,
} from '../../../test/helpers.js';

const NEW_PASSWORD = 'the operator chose this one';

describeEachDatabase('the admin API', (database) => {
  let app: FastifyInstance;
  let admin: FastifyInstance;
  let url: string;
  let drop: () => Promise<void>;
  let clock = Date.now();
  const keys: Record<string, string> = {};
  let adminPort: string;
  beforeAll(async () => {
    ({ url, drop } = await databaseOfItsOwn(database));
    adminPort = String(await freePort());
    app = await buildTestApp(url, { ADMIN_PORT: adminPort, TRUST_PROXY: 'true' }, { now: () => clock });
    admin = app.adminApp!;
    keys.full = await createAdminKey(
      app.accounts,
      'full',
      ['users:read', 'users:write', 'sessions:write', 'events:read'],
      OPERATOR,
    );
    keys.reader = await createAdminKey(app.accounts, 'reader', ['users:read'], OPERATOR);
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  const call = (method: HTTPMethods, path: string, key: string | null = keys.full!, payload?: object) =>
    admin.inject({ method, url: path, payload, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('is served on the admin listener only, behind a key, each route behind its scope', async () => {
    expect((await app.inject({ url: '/admin/v1/users/' })).statusCode).toBe(404);
    expect((await admin.inject({ url: '/api/v1/users/1/' })).statusCode).toBe(404);
    expect((await admin.inject({ url: '/openapi.json' })).statusCode).toBe(404);
    const document = (await admin.inject({ url: '/admin/v1/openapi.json' })).json<{ paths: object }>();
    expect(Object.keys(document.paths)).toContain('/admin/v1/users/{id}/');
    expect(Object.keys(document.paths).every((path) => path.startsWith('/admin/v1/'))).toBe(true);

    const none = await call('GET', '/admin/v1/users/', null);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await call('GET', '/admin/v1/users/', 'ras_admin_not-a-key')).statusCode).toBe(401);
    expect(
      (await admin.inject({ url: '/admin/v1/users/', headers: { authorization: `Token ${keys.full}` } }))
        .statusCode,
    ).toBe(401);
    const account = await signupAccount(app);
    const matrix: [HTTPMethods, string, string, object?][] = [
      ['GET', '/admin/v1/users/', 'users:read'],
      ['GET', `/admin/v1/users/${account.id}/`, 'users:read'],
      ['GET', `/admin/v1/users/${account.id}/sessions/`, 'users:read'],
      ['POST', '/admin/v1/users/', 'users:write', { email: uniqueEmail() }],
      ['PATCH', `/admin/v1/users/${account.id}/`, 'users:write', { email_verified: true }],
      ['POST', `/admin/v1/users/${account.id}/password/`, 'users:write', { password: NEW_PASSWORD }],
      ['POST', `/admin/v1/users/${account.id}/mfa/reset/`, 'users:write', {}],
      ['DELETE', `/admin/v1/users/${account.id}/sessions/`, 'sessions:write'],
      ['GET', '/admin/v1/events/', 'events:read'],
      ['DELETE', `/admin/v1/users/${account.id}/`, 'users:write'],
    ];
    for (const [method, path, scope, payload] of matrix) {
      const res = await call(method, path, keys.reader, payload);
      if (scope === 'users:read') expect(res.statusCode, `${method} ${path}`).toBe(200);
      else
        expect(res.json(), `${method} ${path}`).toEqual({
          status_code: 403,
          message: `this admin key lacks the scope ${scope}`,
        });
    }
    for (const [method, path, , payload] of matrix)
      expect((await call(method, path, keys.full, payload)).statusCode, `${method} ${path}`).toBeLessThan(
        300,
      );
  });

  it('finds users by exact email, by prefix, and page by page by id', async () => {
    const tag = `find${Date.now()}`;
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await signupAccount(app, `${tag}-${i}@example.com`));
    await signupAccount(app, `${tag}_x@example.com`);
    const exact = (
      await call('GET', `/admin/v1/users/?email=${encodeURIComponent(` ${tag.toUpperCase()}-3@EXAMPLE.COM`)}`)
    ).json<{
      result: { id: number; email: string; is_active: boolean; mfa: boolean; last_login: string | null }[];
    }>();
    expect(exact.result).toEqual([
      {
        id: made[3]!.id,
        email: `${tag}-3@example.com`,
        is_active: true,
        email_verified: false,
        date_joined: expect.any(String) as string,
        last_login: null,
        mfa: false,
      },
    ]);
    // `_` and `%` in a prefix are letters, not wildcards.
    const prefixed = (await call('GET', `/admin/v1/users/?email_prefix=${tag}-&limit=2`)).json<{
      result: { id: number }[];
      next_after: number;
    }>();
    expect(prefixed.result.map((u) => u.id)).toEqual([made[0]!.id, made[1]!.id]);
    const next = (
      await call('GET', `/admin/v1/users/?email_prefix=${tag}-&limit=2&after=${prefixed.next_after}`)
    ).json<{
      result: { id: number }[];
    }>();
    expect(next.result.map((u) => u.id)).toEqual([made[2]!.id, made[3]!.id]);
    expect(
      (await call('GET', `/admin/v1/users/?email_prefix=${tag}%25`)).json<{ result: [] }>().result,
    ).toEqual([]);
    expect(
      (await call('GET', `/admin/v1/users/?email_prefix=${tag}_`)).json<{ result: [] }>().result,
    ).toHaveLength(1);
    for (const query of ['?limit=0', '?limit=1001', '?after=-1', '?after=x'])
      expect((await call('GET', `/admin/v1/users/${query}`)).statusCode, query).toBe(400);
  });

  it('creates, changes, sets passwords and deletes through the same rules and events as elsewhere', async () => {
    expect((await call('POST', '/admin/v1/users/', keys.full, { email: 'not an email' })).json()).toEqual({
      status_code: 400,
      message: 'please enter a valid email address',
    });
    expect(
      (await call('POST', '/admin/v1/users/', keys.full, { email: uniqueEmail(), password: 'short' }))
        .statusCode,
    ).toBe(400);
    const email = uniqueEmail('made');
    const created = await call('POST', '/admin/v1/users/', keys.full, {
      email,
      password: PASSWORD,
      email_verified: true,
    });
    expect(created.statusCode).toBe(201);
    const user = created.json<{ result: { id: number; email_verified: boolean } }>().result;
    expect(user.email_verified).toBe(true);
    expect(
      (await call('POST', '/admin/v1/users/', keys.full, { email: email.toUpperCase() })).json(),
    ).toEqual({
      status_code: 409,
      message: 'email already exist, please use different email',
    });
    const token = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: PASSWORD },
      })
    ).json<{
      result: { auth_token: string };
    }>().result.auth_token;
    expect(
      (await call('GET', `/admin/v1/users/${user.id}/`)).json<{ result: { last_login: string } }>().result
        .last_login,
    ).toMatch(/Z$/);

    const moved = uniqueEmail('moved');
    const patched = await call('PATCH', `/admin/v1/users/${user.id}/`, keys.full, {
      email: moved,
      is_active: false,
    });
    expect(patched.json<{ result: object }>().result).toMatchObject({ email: moved, is_active: false });
    expect(
      (await app.inject({ url: `/api/v1/users/${user.id}/`, headers: authHeader(token) })).statusCode,
    ).toBe(401);
    await call('PATCH', `/admin/v1/users/${user.id}/`, keys.full, { is_active: true });
    expect(
      (await call('POST', `/admin/v1/users/${user.id}/password/`, keys.full, { password: 'password' }))
        .statusCode,
    ).toBe(400);
    expect(
      (await call('POST', `/admin/v1/users/${user.id}/password/`, keys.full, { password: NEW_PASSWORD }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: moved, password: NEW_PASSWORD },
        })
      ).statusCode,
    ).toBe(200);
    expect((await call('DELETE', `/admin/v1/users/${user.id}/`)).statusCode).toBe(200);
    expect((await call('GET', `/admin/v1/users/${user.id}/`)).json()).toEqual({
      status_code: 404,
      message: 'Not found',
    });

    const events = (await call('GET', `/admin/v1/events/?user_id=${user.id}&limit=100`)).json<{
      result: { type: string; actor: { type: string; name?: string } }[];
    }>().result;
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.login.succeeded',
      'user.email.changed',
      'user.deactivated',
      'user.activated',
      'user.password.changed',
      'user.login.succeeded',
      'user.deleted',
    ]);
    expect(events[0]!.actor).toEqual({ type: 'admin_key', name: 'full' });
    const typed = (await call('GET', '/admin/v1/events/?type=admin_key.created')).json<{
      result: { data: { name: string } }[];
    }>();
    expect(typed.result.map((e) => e.data.name)).toEqual(['full', 'reader']);
  });

  it('ends every session, also of 50 logins racing a set-password', async () => {
    const account = await signupAccount(app);
    const logins = Array.from({ length: 50 }, (_, i) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: account.email, password: PASSWORD },
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      }),
    );
    const set = call('POST', `/admin/v1/users/${account.id}/password/`, keys.full, {
      password: NEW_PASSWORD,
    });
    const answers = await Promise.all(logins);
    expect((await set).statusCode).toBe(200);
    const tokens = answers
      .filter((r) => r.statusCode === 200)
      .map((r) => r.json<{ result: { auth_token: string } }>().result.auth_token);
    for (const token of [account.token, ...tokens])
      expect(
        (await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) })).statusCode,
      ).toBe(401);
  });

  it('refuses a revoked key from the next request on every instance, and records a use at most once a minute', async () => {
    const second = await buildTestApp(url, { ADMIN_PORT: adminPort }, { now: () => clock });
    try {
      const key = await createAdminKey(app.accounts, 'short-lived', ['users:read'], OPERATOR);
      const on = (instance: FastifyInstance) =>
        instance.adminApp!.inject({
          url: '/admin/v1/users/?limit=1',
          headers: { authorization: `Bearer ${key}` },
        });
      expect((await on(app)).statusCode).toBe(200);
      expect((await on(second)).statusCode).toBe(200);
      const used = async () =>
        (await app.accounts.store.adminKeys.list()).find((k) => k.name === 'short-lived')!.lastUsedAt;
      const first = await used();
      clock += 30_000;
      await on(app);
      expect(await used()).toBe(first);
      clock += 31_000;
      await on(second);
      expect(await used()).toBe(clock);
      const { revokeAdminKey } = await import('../../accounts/admin-keys.js');
      expect(await revokeAdminKey(second.accounts, 'short-lived', OPERATOR)).toBe(true);
      expect((await on(app)).statusCode).toBe(401);
      expect((await on(second)).statusCode).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('answers any input with a 4xx, never a 500 (fast-check)', async () => {
    const account = await signupAccount(app);
    const routes: [HTTPMethods, string][] = [
      ['GET', '/admin/v1/users/'],
      ['POST', '/admin/v1/users/'],
      ['GET', `/admin/v1/users/${account.id}/`],
      ['PATCH', `/admin/v1/users/${account.id}/`],
      ['POST', `/admin/v1/users/${account.id}/password/`],
      ['GET', `/admin/v1/users/${account.id}/sessions/`],
      ['POST', `/admin/v1/users/${account.id}/mfa/reset/`],
      ['GET', '/admin/v1/events/'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.jsonValue({ maxDepth: 3 }),
        fc.dictionary(
          fc.constantFrom('email', 'email_prefix', 'limit', 'after', 'user_id', 'type'),
          fc.string({ maxLength: 30 }),
        ),
        fc.string({ maxLength: 20 }).map(encodeURIComponent),
        async ([method, path], body, query, id) => {
          const search = new URLSearchParams(query).toString();
          const target =
            (path.includes(String(account.id)) && id ? path.replace(String(account.id), id) : path) +
            (search ? `?${search}` : '');
          const res = await admin.inject({
            method,
            url: target,
            headers: { authorization: `Bearer ${keys.reader}`, 'content-type': 'application/json' },
            payload: method === 'GET' ? undefined : JSON.stringify(body),
          });
          expect(res.statusCode).toBeLessThan(500);
          expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        },
      ),
      { numRuns: 200 },
    );
  });
});
