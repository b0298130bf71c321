import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/database.js';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  loginAccount,
  PASSWORD,
  signupAccount,
  type TestAccount,
} from '../../test/helpers.js';

const NEW_PASSWORD = 'a brand new passphrase';

describeEachDatabase('account: change password, deactivate', (database) => {
  let app: FastifyInstance;
  let raw: Database;
  beforeAll(async () => {
    const url = database.url();
    app = await buildTestApp(url);
    raw = await openDatabase(url);
  });
  afterAll(async () => {
    await app.close();
    await raw.close();
  });

  const changePassword = (account: TestAccount, token: string, payload: object) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/password/`,
      headers: authHeader(token),
      payload,
    });
  const me = (account: TestAccount, token: string) =>
    app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) });
  const login = (email: string, password: string) =>
    app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });

  it('changes the password: every other session ends, a new session is returned, the hash is argon2id', async () => {
    const account = await signupAccount(app);
    const other = await loginAccount(app, account.email);
    const res = await changePassword(account, account.token, {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(200);
    const token = res.json<{ result: { auth_token: string } }>().result.auth_token;
    expect(res.body).toBe(
      `{"status_code":200,"message":"password changed","result":{"auth_token":"${token}"}}`,
    );
    expect((await me(account, token)).statusCode).toBe(200);
    for (const old of [account.token, other]) expect((await me(account, old)).statusCode).toBe(401);
    expect((await login(account.email, PASSWORD)).statusCode).toBe(400);
    expect((await login(account.email, NEW_PASSWORD)).statusCode).toBe(200);
    const row = await raw.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', account.id)
      .executeTakeFirst();
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses a wrong current password with the login 400 and keeps every session', async () => {
    const account = await signupAccount(app);
    const res = await changePassword(account, account.token, {
      current_password: 'not my password',
      new_password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('{"status_code":400,"message":"Invalid username or password"}');
    expect((await me(account, account.token)).statusCode).toBe(200);
  });

  it.each([
    ['short', 'short', 'password must be at least 8 characters'],
    ['common', 'password123', 'this password is too common, please choose a different one'],
    ['not a string', 12345678, 'password must be a string'],
  ])('applies the signup policy to the new password (%s)', async (_label, newPassword, message) => {
    const account = await signupAccount(app);
    const res = await changePassword(account, account.token, {
      current_password: PASSWORD,
      new_password: newPassword,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ status_code: 400, message });
  });

  it('answers 400 for a missing field', async () => {
    const account = await signupAccount(app);
    const res = await changePassword(account, account.token, { new_password: NEW_PASSWORD });
    expect(res.json()).toEqual({ status_code: 400, message: 'current_password is required' });
  });

  it('leaves exactly one valid new session after concurrent password changes', async () => {
    const account = await signupAccount(app);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        changePassword(account, account.token, {
          current_password: PASSWORD,
          new_password: `${NEW_PASSWORD} ${i}`,
        }),
      ),
    );
    const won = answers.filter((r) => r.statusCode === 200);
    expect(won).toHaveLength(1);
    // A loser either finds its session ended by the winner, or (if it read the account after the winner
    // committed) finds its current password no longer right.
    for (const lost of answers.filter((r) => r.statusCode !== 200))
      expect(lost.body).toMatch(
        /^(\{"message":"Invalid Token"\}|\{"status_code":400,"message":"Invalid username or password"\})$/,
      );
    const sessions = await raw.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', account.id)
      .execute();
    expect(sessions).toHaveLength(1);
    const token = won[0]!.json<{ result: { auth_token: string } }>().result.auth_token;
    expect((await me(account, token)).statusCode).toBe(200);
  });

  it('deactivates with the password: every token ends, login answers the seed 404', async () => {
    const account = await signupAccount(app);
    const other = await loginAccount(app, account.email);
    const wrong = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/deactivate/`,
      headers: authHeader(account.token),
      payload: { password: 'not my password' },
    });
    expect(wrong.body).toBe('{"status_code":400,"message":"Invalid username or password"}');
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/deactivate/`,
      headers: authHeader(account.token),
      payload: { password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"status_code":200,"message":"This account has been deactivated"}');
    for (const token of [account.token, other])
      expect((await me(account, token)).body).toBe('{"message":"Invalid Token"}');
    expect((await login(account.email, PASSWORD)).body).toBe(
      '{"status_code":404,"message":"This account has been deactivated"}',
    );
  });
});
