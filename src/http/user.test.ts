import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  loginAccount,
  signupAccount,
  type TestAccount,
} from '../../test/helpers.js';

const NOT_PROVIDED = '{"detail":"Authentication credentials were not provided."}';
const INVALID_TOKEN = '{"message":"Invalid Token"}';
const FORBIDDEN = '{"detail":"You do not have permission to perform this action."}';

describeEachDatabase('GET /api/v1/users/{userid}/ and POST …/logout/', (database) => {
  let app: FastifyInstance;
  let clock = Date.now();
  let account: TestAccount;
  let other: TestAccount;
  beforeAll(async () => {
    app = await buildTestApp(database.url(), { TOKEN_TTL: '3600' }, { now: () => clock });
    account = await signupAccount(app);
    other = await signupAccount(app);
  });
  afterAll(() => app.close());

  const me = (id: number | string, headers: Record<string, string> = {}, query = '') =>
    app.inject({ url: `/api/v1/users/${id}/${query}`, headers });
  const logout = (id: number | string, token: string) =>
    app.inject({ method: 'POST', url: `/api/v1/users/${id}/logout/`, headers: authHeader(token) });

  it('answers the seed body: id, email and the token presented', async () => {
    const res = await me(account.id, authHeader(account.token));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(`{"id":${account.id},"email":"${account.email}","auth_token":"${account.token}"}`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(
      (await app.inject({ url: `/api/v1/users/${account.id}`, headers: authHeader(account.token) }))
        .statusCode,
    ).toBe(200);
  });

  it.each(['Token', 'token', 'TOKEN', 'Bearer', 'bearer'])('accepts the %s scheme', async (scheme) => {
    expect((await me(account.id, { authorization: `${scheme} ${account.token}` })).statusCode).toBe(200);
  });

  it.each([
    ['no header', {}],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an empty header', { authorization: '' }],
  ])('answers 401 credentials not provided with WWW-Authenticate for %s', async (_label, headers) => {
    const res = await me(account.id, headers);
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(NOT_PROVIDED);
    expect(res.headers['www-authenticate']).toBe('Token');
  });

  it('ignores a token in the query string, a cookie or the body', async () => {
    expect((await me(account.id, {}, `?token=${account.token}&auth_token=${account.token}`)).body).toBe(
      NOT_PROVIDED,
    );
    expect((await me(account.id, { cookie: `token=${account.token}` })).body).toBe(NOT_PROVIDED);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/logout/`,
      payload: { auth_token: account.token, token: account.token },
    });
    expect(res.body).toBe(NOT_PROVIDED);
  });

  it.each([
    ['an unknown token', () => 'ras_' + 'A'.repeat(43)],
    ['the token without its prefix', () => account.token.slice(4)],
    ['the token with a suffix', () => `${account.token}x`],
    ['the token case-flipped', () => account.token.replace(/[a-z]/, (c) => c.toUpperCase())],
    ['two tokens', () => `${account.token} ${account.token}`],
    ['a scheme and nothing', () => ''],
  ])('answers 401 Invalid Token with WWW-Authenticate for %s', async (_label, token) => {
    const res = await me(account.id, { authorization: `Token ${token()}` });
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(INVALID_TOKEN);
    expect(res.headers['www-authenticate']).toBe('Token');
  });

  it("answers 403 for another account's id and for an id that does not exist", async () => {
    for (const id of [other.id, 987654321, '99999999999999999999999']) {
      const res = await me(id, authHeader(account.token));
      expect(res.statusCode).toBe(403);
      expect(res.body).toBe(FORBIDDEN);
    }
  });

  it.each(['abc', '0', '-1', '1.5', '1e3', '%20'])('answers 404 Not found. for the id %j', async (id) => {
    const res = await me(id, authHeader(account.token));
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('{"detail":"Not found."}');
  });

  it('logs out the presented token only; the next login issues a new one', async () => {
    const second = await loginAccount(app, account.email);
    const res = await logout(account.id, second);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"status_code":200,"message":"You have been successfully logged out"}');
    expect((await me(account.id, authHeader(second))).body).toBe(INVALID_TOKEN);
    expect((await logout(account.id, second)).body).toBe(INVALID_TOKEN);
    expect((await me(account.id, authHeader(account.token))).statusCode).toBe(200);
    const third = await loginAccount(app, account.email);
    expect(third).not.toBe(second);
  });

  it('lets exactly one of ten concurrent logouts with one token win', async () => {
    const token = await loginAccount(app, account.email);
    const answers = await Promise.all(Array.from({ length: 10 }, () => logout(account.id, token)));
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
    for (const r of answers.filter((a) => a.statusCode !== 200)) {
      expect(r.statusCode).toBe(401);
      expect(r.body).toBe(INVALID_TOKEN);
    }
  });

  it("refuses to log out another account's id (403) and leaves the token valid", async () => {
    const res = await logout(other.id, account.token);
    expect(res.statusCode).toBe(403);
    expect(res.body).toBe(FORBIDDEN);
    expect((await me(account.id, authHeader(account.token))).statusCode).toBe(200);
  });

  it('expires a session after TOKEN_TTL', async () => {
    const token = await loginAccount(app, account.email);
    clock += 3600 * 1000 - 1;
    expect((await me(account.id, authHeader(token))).statusCode).toBe(200);
    clock += 1;
    expect((await me(account.id, authHeader(token))).body).toBe(INVALID_TOKEN);
  });
});
