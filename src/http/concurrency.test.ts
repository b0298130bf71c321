/**
 * The contract's "Under concurrency" rules, each forced on purpose: the real hasher is held between a
 * password check and what follows it (test/paused-hasher.ts), so the bad interleaving happens every run,
 * then the same rule is hammered with simultaneous requests. On SQLite, PostgreSQL, and PostgreSQL with Redis.
 * @see issue 11
 */
import { hash } from '@node-rs/argon2';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { activateAccount, deactivateAccount } from '../accounts/deactivation.js';
import { hashToken } from '../crypto/tokens.js';
import { type Database, openDatabase } from '../store/database.js';
import {
  authHeader,
  buildTestApp,
  describeEachStore,
  loginAccount,
  PASSWORD,
  signupAccount,
  type TestAccount,
  OPERATOR,
} from '../../test/helpers.js';
import { PausedHasher } from '../../test/paused-hasher.js';

const WRONG = 'definitely not it';
const NEW_PASSWORD = 'a brand new passphrase';

/** Waits until `count()` reaches `target`; fails after `ms` (the bad interleaving would hang here). */
async function waitUntil(count: () => number, target: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (count() < target) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms: ${count()} of ${target}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts the requests at once; `settled` counts those answered so far. */
function simultaneously(requests: (() => Promise<LightMyRequestResponse>)[]) {
  let settled = 0;
  const all = Promise.all(
    requests.map((send) =>
      send().then((res) => {
        settled++;
        return res;
      }),
    ),
  );
  return { all, settled: () => settled };
}

const statuses = (answers: LightMyRequestResponse[]) =>
  answers.reduce<Record<number, number>>(
    (n, r) => ({ ...n, [r.statusCode]: (n[r.statusCode] ?? 0) + 1 }),
    {},
  );

describeEachStore('under concurrency', (database, env) => {
  let app: FastifyInstance;
  let hasher: PausedHasher;
  let raw: Database;
  beforeAll(async () => {
    const url = database.url();
    hasher = new PausedHasher(2, 10_000);
    app = await buildTestApp(url, { ...env, TRUST_PROXY: 'true' }, { passwords: hasher });
    raw = await openDatabase(url);
  });
  afterAll(async () => {
    hasher.openGate();
    await app.close();
    await raw.close();
  });

  const login = (email: string, password: string, ip = '192.0.2.10') =>
    app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password },
      headers: { 'x-forwarded-for': ip },
    });
  const me = (account: TestAccount, token: string) =>
    app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) });
  const changePassword = (account: TestAccount, token: string, current: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/password/`,
      headers: { ...authHeader(token), 'x-forwarded-for': '192.0.2.99' },
      payload: { current_password: current, new_password: NEW_PASSWORD },
    });
  const eventTypes = async (userId: number) =>
    (await app.accounts.store.events.list({ userId, limit: 1000 })).map((e) => e.type);
  const sessionCount = async (userId: number) =>
    (await raw.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length;

  it('checks at most 5 of 12 simultaneous wrong logins from one address; the other 7 get 429 before any hash', async () => {
    const { email } = await signupAccount(app);
    hasher.started = 0;
    hasher.holdAll();
    const flood = simultaneously(Array.from({ length: 12 }, () => () => login(email, WRONG)));
    await waitUntil(flood.settled, 7);
    expect(hasher.started).toBe(5);
    hasher.openGate();
    expect(statuses(await flood.all)).toEqual({ 400: 5, 429: 7 });
  });

  it('tells the excess of 12 simultaneous right logins from one address that attempts are in progress, not that they failed', async () => {
    const { email } = await signupAccount(app);
    hasher.started = 0;
    hasher.holdAll();
    const flood = simultaneously(Array.from({ length: 12 }, () => () => login(email, PASSWORD)));
    // Five checks held in flight; the seven refused meanwhile were refused because of them.
    await waitUntil(flood.settled, 7);
    expect(hasher.started).toBe(5);
    hasher.openGate();
    const answers = await flood.all;
    expect(statuses(answers)).toEqual({ 200: 5, 429: 7 });
    for (const refused of answers.filter((a) => a.statusCode === 429)) {
      expect(refused.json()).toEqual({
        status_code: 429,
        message: 'too many attempts in progress, please try again later',
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Sequential failures, with nothing in flight, are still called what they are.
    for (let i = 0; i < 5; i++) await login(email, WRONG, '192.0.2.77');
    expect((await login(email, WRONG, '192.0.2.77')).json()).toEqual({
      status_code: 429,
      message: 'too many failed attempts, please try again later',
    });
  });

  it('checks at most 20 of 80 simultaneous wrong logins on one account from ten addresses', async () => {
    const { email } = await signupAccount(app);
    hasher.started = 0;
    hasher.holdAll();
    const flood = simultaneously(
      Array.from({ length: 80 }, (_, i) => () => login(email, WRONG, `203.0.113.${i % 10}`)),
    );
    await waitUntil(flood.settled, 60);
    expect(hasher.started).toBe(20);
    hasher.openGate();
    expect(statuses(await flood.all)).toEqual({ 400: 20, 429: 60 });
  });

  it('checks at most 5 of 200 simultaneous password changes with a wrong current password and one token', async () => {
    const account = await signupAccount(app);
    hasher.started = 0;
    hasher.holdAll();
    const flood = simultaneously(
      Array.from({ length: 200 }, () => () => changePassword(account, account.token, WRONG)),
    );
    await waitUntil(flood.settled, 195);
    expect(hasher.started).toBe(5);
    hasher.openGate();
    expect(statuses(await flood.all)).toEqual({ 400: 5, 429: 195 });
    expect((await me(account, account.token)).statusCode).toBe(200);
  });

  it('opens no session for a login that checked the password before a password change answered', async () => {
    const account = await signupAccount(app);
    const pause = hasher.pauseNextVerification();
    const racing = login(account.email, PASSWORD);
    await pause.reached;
    expect((await changePassword(account, account.token, PASSWORD)).statusCode).toBe(200);
    pause.release();
    const res = await racing;
    expect(res.json()).toEqual({ status_code: 400, message: 'Invalid username or password' });
    expect(await sessionCount(account.id)).toBe(1);
    // The session was never opened, so no login event was written: the event commits with the session.
    expect(await eventTypes(account.id)).toEqual(['user.created', 'user.password.changed']);
  });

  it('opens no session for a login that checked the password before a deactivation answered', async () => {
    const account = await signupAccount(app);
    const pause = hasher.pauseNextVerification();
    const racing = login(account.email, PASSWORD);
    await pause.reached;
    expect(await deactivateAccount(app.accounts, account.id, OPERATOR)).toBe(true);
    pause.release();
    expect((await racing).statusCode).toBe(400);
    expect(await sessionCount(account.id)).toBe(0);
    await activateAccount(app.accounts, account.id, OPERATOR);
    expect(await sessionCount(account.id)).toBe(0);
  });

  it('never lets a late rehash at login bring back the password a change replaced', async () => {
    const account = await signupAccount(app);
    const weak = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await raw.db.updateTable('users').set({ password_hash: weak }).where('id', '=', account.id).execute();
    const pause = hasher.pauseNextVerification();
    const racing = login(account.email, PASSWORD);
    await pause.reached;
    expect((await changePassword(account, account.token, PASSWORD)).statusCode).toBe(200);
    pause.release();
    expect((await racing).statusCode).toBe(400);
    expect((await login(account.email, PASSWORD, '192.0.2.11')).statusCode).toBe(400);
    expect((await login(account.email, NEW_PASSWORD, '192.0.2.12')).statusCode).toBe(200);
  });

  it('activation brings back no earlier session, not even one written while the account was inactive', async () => {
    const account = await signupAccount(app);
    await deactivateAccount(app.accounts, account.id, OPERATOR);
    // What the Django import writes for an inactive user's DRF token.
    const token = 'imported-drf-token-of-an-inactive-user';
    await raw.db
      .insertInto('sessions')
      .values({
        user_id: account.id,
        token_hash: hashToken(token),
        created_at: Date.now(),
        expires_at: Date.now() + 3_600_000,
        last_seen_at: Date.now(),
        user_agent: null,
        ip: null,
      })
      .execute();
    await activateAccount(app.accounts, account.id, OPERATOR);
    expect((await me(account, token)).statusCode).toBe(401);
    expect((await me(account, account.token)).statusCode).toBe(401);
    expect(await loginAccount(app, account.email)).toMatch(/^ras_/);
  });

  it('writes exactly one user.login.succeeded event per session opened by 30 logins racing a password change', async () => {
    const account = await signupAccount(app);
    // The change's address has logged in before: the account-wide block the 30 may set does not stop it.
    expect((await login(account.email, PASSWORD, '192.0.2.99')).statusCode).toBe(200);
    const racing = simultaneously(
      Array.from({ length: 30 }, (_, i) => () => login(account.email, PASSWORD, `203.0.113.${i}`)),
    );
    expect((await changePassword(account, account.token, PASSWORD)).statusCode).toBe(200);
    const opened = (await racing.all).filter((r) => r.statusCode === 200).length + 1;
    const logins = (await eventTypes(account.id)).filter((type) => type === 'user.login.succeeded');
    expect(logins).toHaveLength(opened);
    const sessionIds = (await app.accounts.store.events.list({ userId: account.id, limit: 100 }))
      .filter((e) => e.type === 'user.login.succeeded')
      .map((e) => e.data.session_id);
    expect(new Set(sessionIds).size).toBe(opened);
  });

  it('leaves no valid token from 18 logins racing a password change', async () => {
    const account = await signupAccount(app);
    const racing = simultaneously(
      Array.from({ length: 18 }, (_, i) => () => login(account.email, PASSWORD, `198.51.100.${i}`)),
    );
    const change = await changePassword(account, account.token, PASSWORD);
    expect(change.statusCode).toBe(200);
    const tokens = (await racing.all)
      .filter((r) => r.statusCode === 200)
      .map((r) => r.json<{ result: { auth_token: string } }>().result.auth_token);
    for (const token of tokens) expect((await me(account, token)).statusCode).toBe(401);
    const newToken = change.json<{ result: { auth_token: string } }>().result.auth_token;
    expect((await me(account, newToken)).statusCode).toBe(200);
  });
});
