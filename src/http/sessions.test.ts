import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LAST_SEEN_RESOLUTION_MS } from '../accounts/sessions.js';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  loginAccount,
  PASSWORD,
  signupAccount,
  type TestAccount,
} from '../../test/helpers.js';

interface SessionView {
  id: number;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

describeEachDatabase('sessions: list, revoke one, log out everywhere', (database) => {
  let app: FastifyInstance;
  let otherInstance: FastifyInstance;
  let clock = Date.now();
  beforeAll(async () => {
    const url = database.url();
    app = await buildTestApp(url, {}, { now: () => clock });
    otherInstance = await buildTestApp(url, {}, { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await otherInstance.close();
  });

  const list = async (account: TestAccount, token = account.token, instance = app) => {
    const res = await instance.inject({
      url: `/api/v1/users/${account.id}/sessions/`,
      headers: authHeader(token),
    });
    return { res, sessions: res.statusCode === 200 ? res.json<{ result: SessionView[] }>().result : [] };
  };
  const me = (account: TestAccount, token: string, instance = app) =>
    instance.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) });
  const revoke = (account: TestAccount, token: string, sessionId: number | string, instance = app) =>
    instance.inject({
      method: 'DELETE',
      url: `/api/v1/users/${account.id}/sessions/${sessionId}/`,
      headers: authHeader(token),
    });

  it('lists live sessions newest first, marks the current one, and shows no token or hash', async () => {
    const account = await signupAccount(app);
    clock += 1000;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      headers: { 'user-agent': 'ras-test/1.0' },
      payload: { email: account.email, password: 'correct horse battery staple' },
    });
    const second = res.json<{ result: { auth_token: string } }>().result.auth_token;
    const { res: listed, sessions } = await list(account, second);
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({ status_code: 200, message: 'sessions' });
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ user_agent: 'ras-test/1.0', ip: '127.0.0.1', current: true });
    expect(sessions[1]?.current).toBe(false);
    expect(Date.parse(sessions[0]!.created_at)).toBeGreaterThan(Date.parse(sessions[1]!.created_at));
    expect(Object.keys(sessions[0]!).sort()).toEqual(
      ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_seen_at', 'user_agent'].sort(),
    );
    expect(listed.body).not.toContain(account.token);
    expect(listed.body).not.toContain(second);
    expect(listed.body).not.toMatch(/[0-9a-f]{64}/);
  });

  it('refreshes last_seen_at at most once an hour', async () => {
    const account = await signupAccount(app);
    const before = (await list(account)).sessions[0]!.last_seen_at;
    clock += LAST_SEEN_RESOLUTION_MS - 1;
    await me(account, account.token);
    expect((await list(account)).sessions[0]!.last_seen_at).toBe(before);
    clock += 1;
    await me(account, account.token);
    expect(Date.parse((await list(account)).sessions[0]!.last_seen_at)).toBe(clock);
  });

  it('revokes one session; its token is Invalid Token at once, on another instance too', async () => {
    const account = await signupAccount(app);
    const second = await loginAccount(app, account.email);
    const target = (await list(account)).sessions.find((s) => !s.current)!;
    expect(target).toBeDefined();
    const first = (await list(account, second)).sessions.find((s) => !s.current)!;
    const res = await revoke(account, second, first.id);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"status_code":200,"message":"session revoked"}');
    expect((await me(account, account.token, otherInstance)).body).toBe('{"message":"Invalid Token"}');
    expect((await me(account, second, otherInstance)).statusCode).toBe(200);
  });

  it("answers 404 for another account's session, which stays valid, and for unknown ids", async () => {
    const account = await signupAccount(app);
    const victim = await signupAccount(app);
    const victimSession = (await list(victim)).sessions[0]!;
    for (const id of [victimSession.id, 2147483647, '99999999999999999999', 'abc', '0']) {
      const res = await revoke(account, account.token, id);
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe('{"status_code":404,"message":"Not found"}');
    }
    expect((await me(victim, victim.token)).statusCode).toBe(200);
  });

  it('applies the 403 rule for foreign ids on every route', async () => {
    const account = await signupAccount(app);
    const other = await signupAccount(app);
    const foreign = [
      app.inject({ url: `/api/v1/users/${other.id}/sessions/`, headers: authHeader(account.token) }),
      revoke(other, account.token, 1),
      app.inject({
        method: 'POST',
        url: `/api/v1/users/${other.id}/logout/all/`,
        headers: authHeader(account.token),
      }),
    ];
    for (const res of await Promise.all(foreign)) {
      expect(res.statusCode).toBe(403);
      expect(res.body).toBe('{"detail":"You do not have permission to perform this action."}');
    }
    expect((await me(other, other.token)).statusCode).toBe(200);
  });

  it('logs out everywhere, the current session included, on every instance', async () => {
    const account = await signupAccount(app);
    const second = await loginAccount(app, account.email);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/logout/all/`,
      headers: authHeader(second),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"status_code":200,"message":"You have been logged out everywhere"}');
    for (const token of [account.token, second]) {
      expect((await me(account, token, otherInstance)).body).toBe('{"message":"Invalid Token"}');
    }
    expect((await loginAccount(app, account.email)).startsWith('ras_')).toBe(true);
  });
});

describeEachDatabase('sessions: bounded and paginated', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url(), { SESSIONS_MAX: '5' });
  });
  afterAll(() => app.close());

  const page = (account: TestAccount, token: string, query = '') =>
    app.inject({ url: `/api/v1/users/${account.id}/sessions/${query}`, headers: authHeader(token) });
  const me = (account: TestAccount, token: string) =>
    app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) });

  it('keeps at most SESSIONS_MAX live sessions: a login beyond ends the oldest', async () => {
    const account = await signupAccount(app);
    const tokens = [account.token];
    for (let i = 0; i < 6; i++) tokens.push(await loginAccount(app, account.email));
    const listed = (await page(account, tokens.at(-1)!)).json<{ result: SessionView[] }>().result;
    expect(listed).toHaveLength(5);
    for (const token of tokens.slice(0, 2)) expect((await me(account, token)).statusCode).toBe(401);
    for (const token of tokens.slice(2)) expect((await me(account, token)).statusCode).toBe(200);
  });

  it('keeps the bound under 20 simultaneous logins', async () => {
    const account = await signupAccount(app);
    // From twenty addresses: one address gets at most five simultaneous attempts on an account (the throttle).
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: account.email, password: PASSWORD },
          remoteAddress: `192.0.2.${i + 1}`,
        }),
      ),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const tokens = answers.map((r) => r.json<{ result: { auth_token: string } }>().result.auth_token);
    const live = await Promise.all(tokens.map(async (t) => (await me(account, t)).statusCode === 200));
    expect(live.filter(Boolean).length).toBeLessThanOrEqual(5);
    expect(live.filter(Boolean).length).toBeGreaterThanOrEqual(1);
  });

  it('pages newest first with ?limit and ?before, next_before null on the last page', async () => {
    const account = await signupAccount(app);
    for (let i = 0; i < 4; i++) await loginAccount(app, account.email);
    const first = (await page(account, account.token, '?limit=2')).json<{
      result: SessionView[];
      next_before: number | null;
    }>();
    expect(first.result).toHaveLength(2);
    expect(first.result[0]!.id).toBeGreaterThan(first.result[1]!.id);
    expect(first.next_before).toBe(first.result[1]!.id);
    const second = (await page(account, account.token, `?limit=2&before=${first.next_before}`)).json<{
      result: SessionView[];
      next_before: number | null;
    }>();
    expect(second.result.map((s) => s.id).every((id) => id < first.next_before!)).toBe(true);
    const last = (await page(account, account.token, `?limit=2&before=${second.next_before}`)).json<{
      result: SessionView[];
      next_before: number | null;
    }>();
    expect(last.result).toHaveLength(1);
    expect(last.result[0]!.current).toBe(true);
    expect(last.next_before).toBeNull();
    const all = (await page(account, account.token)).json<{ result: SessionView[]; next_before: null }>();
    expect(all.result).toHaveLength(5);
    expect(all.next_before).toBeNull();
  });

  it.each([
    '?limit=0',
    '?limit=101',
    '?limit=abc',
    '?before=0',
    '?before=-1',
    '?before=9007199254740992', // 2^53: past the largest id Ras has
    '?limit=1.5',
  ])('answers %s with 400 in the envelope', async (query) => {
    const account = await signupAccount(app);
    const res = await page(account, account.token, query);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status_code: 400 });
  });
});
