import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deactivateAccount } from '../accounts/deactivation.js';
import { hashToken } from '../crypto/tokens.js';
import { type Database, openDatabase } from '../store/database.js';
import { KyselyStore } from '../store/store.js';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  uniqueEmail,
  OPERATOR,
} from '../../test/helpers.js';

const LOGIN = '/api/v1/users/login/';

describeEachDatabase('POST /api/v1/users/login/', (database) => {
  let app: FastifyInstance;
  let raw: Database;
  let store: KyselyStore;
  beforeAll(async () => {
    const url = database.url();
    app = await buildTestApp(url);
    raw = await openDatabase(url);
    store = new KyselyStore(raw.db);
  });
  afterAll(async () => {
    await app.close();
    await raw.close();
  });

  const login = (payload: object, url = LOGIN) => app.inject({ method: 'POST', url, payload });

  it('answers 200 with the seed body and a new session; earlier sessions stay valid', async () => {
    const account = await signupAccount(app);
    const res = await login({ email: account.email, password: PASSWORD });
    expect(res.statusCode).toBe(200);
    const token = res.json<{ result: { auth_token: string } }>().result.auth_token;
    expect(res.body).toBe(
      `{"status_code":200,"message":"you have successfully logged in","result":{"id":${account.id},"email":"${account.email}","auth_token":"${token}"}}`,
    );
    expect(token).not.toBe(account.token);
    for (const t of [account.token, token]) {
      expect(
        (await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(t) })).statusCode,
      ).toBe(200);
    }
  });

  it('matches the email trimmed and case-insensitively, without the trailing slash too', async () => {
    const account = await signupAccount(app);
    const res = await login(
      { email: `  ${account.email.toUpperCase()} `, password: PASSWORD },
      '/api/v1/users/login',
    );
    expect(res.statusCode).toBe(200);
  });

  it('gives one identical 400 for a wrong password, an unknown email and a malformed one', async () => {
    const account = await signupAccount(app);
    const answers = await Promise.all([
      login({ email: account.email, password: 'wrong password here' }),
      login({ email: uniqueEmail('nobody'), password: PASSWORD }),
      login({ email: 'not-an-email', password: PASSWORD }),
      login({ email: account.email, password: 42 }),
      login({ email: account.email, password: 'x'.repeat(60_000) }),
    ]);
    for (const res of answers) {
      expect(res.statusCode).toBe(400);
      expect(res.body).toBe('{"status_code":400,"message":"Invalid username or password"}');
    }
  });

  it('tells a deactivated account apart only to someone with its password', async () => {
    const account = await signupAccount(app);
    await deactivateAccount({ store, now: Date.now }, account.id, OPERATOR);
    const right = await login({ email: account.email, password: PASSWORD });
    expect(right.statusCode).toBe(404);
    expect(right.body).toBe('{"status_code":404,"message":"This account has been deactivated"}');
    const wrong = await login({ email: account.email, password: 'wrong password here' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toBe('{"status_code":400,"message":"Invalid username or password"}');
  });

  it('verifies the password exactly: no case folding, no trimming, no truncation', async () => {
    const account = await signupAccount(app);
    for (const variant of [PASSWORD.toUpperCase(), ` ${PASSWORD}`, PASSWORD.slice(0, -1), `${PASSWORD}x`]) {
      expect((await login({ email: account.email, password: variant }, LOGIN)).statusCode).toBe(400);
    }
  });

  it('normalizes the password with NFKC before hashing and verifying', async () => {
    const email = uniqueEmail();
    // Full-width letters are NFKC-equivalent to ASCII: the same password typed with another input method.
    const fullWidth = 'ｍｙ ｓｅｃｒｅｔ ｐｈｒａｓｅ';
    await app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: { email, password: fullWidth },
    });
    expect((await login({ email, password: 'my secret phrase' })).statusCode).toBe(200);
  });

  it('accepts a form-encoded body', async () => {
    const account = await signupAccount(app);
    const res = await app.inject({
      method: 'POST',
      url: LOGIN,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: account.email, password: PASSWORD }).toString(),
    });
    expect(res.statusCode).toBe(200);
  });

  it('upgrades a hash with older argon2 parameters at the next successful login', async () => {
    const { hash } = await import('@node-rs/argon2');
    const email = uniqueEmail('legacy');
    const oldHash = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const id = await store.users.insertUser({ email, passwordHash: oldHash, dateJoined: Date.now() });
    expect((await login({ email, password: 'wrong password here' })).statusCode).toBe(400);
    expect((await store.users.findUserById(id!))?.passwordHash).toBe(oldHash);

    expect((await login({ email, password: PASSWORD })).statusCode).toBe(200);
    const upgraded = (await store.users.findUserById(id!))?.passwordHash ?? '';
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login({ email, password: PASSWORD })).statusCode).toBe(200);
  });

  it('stores only the SHA-256 of each token, never the token', async () => {
    const account = await signupAccount(app);
    const rows = await store.sessions.listActiveSessionsOfUser(account.id, Date.now(), { limit: 10 });
    expect(rows).toHaveLength(1);
    const stored = await raw.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', account.id)
      .execute();
    expect(stored[0]?.token_hash).toBe(hashToken(account.token));
    expect(JSON.stringify(stored)).not.toContain(account.token);
    expect(JSON.stringify(stored)).not.toContain(account.token.slice(4));
  });
});
