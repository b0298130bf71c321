import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replaceAccountToken } from '../accounts/account-tokens.js';
import { activateAccount } from '../accounts/deactivation.js';
import { EVENT_TYPES, type EventRecord, recordEvent } from '../accounts/events.js';
import { markEmailVerified } from '../accounts/verification.js';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  loginAccount,
  OPERATOR,
  PASSWORD,
  signupAccount,
  uniqueEmail,
} from '../../test/helpers.js';

const NEW_PASSWORD = 'a different correct horse';
const AGENT = { 'user-agent': 'events-test/1.0' };

describeEachDatabase('events (the audit log)', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url());
  });
  afterAll(() => app.close());

  const eventsOf = async (userId: number): Promise<EventRecord[]> =>
    app.accounts.store.events.list({ userId, limit: 1000 });
  const typesOf = async (userId: number) => (await eventsOf(userId)).map((e) => e.type);
  const post = (url: string, token: string | null, payload: object = {}) =>
    app.inject({ method: 'POST', url, headers: { ...AGENT, ...(token ? authHeader(token) : {}) }, payload });

  /** Every secret a lifecycle handed out, to look for in the log afterwards. */
  const secrets: string[] = [PASSWORD, NEW_PASSWORD];

  it('writes one event per change, in order, with who acted and from where', async () => {
    const account = await signupAccount(app, uniqueEmail('events'), AGENT);
    secrets.push(account.token);
    const token = await loginAccount(app, account.email);
    secrets.push(token);
    expect(
      (await post('/api/v1/users/login/', null, { email: account.email, password: 'wrong password!' }))
        .statusCode,
    ).toBe(400);

    const sessions = await app.inject({
      url: `/api/v1/users/${account.id}/sessions/`,
      headers: authHeader(token),
    });
    const other = sessions
      .json<{ result: { id: number; current: boolean }[] }>()
      .result.find((s) => !s.current)!;
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/users/${account.id}/sessions/${other.id}/`,
          headers: authHeader(token),
        })
      ).statusCode,
    ).toBe(200);
    const changed = await post(`/api/v1/users/${account.id}/password/`, token, {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    const changedToken = changed.json<{ result: { auth_token: string } }>().result.auth_token;
    secrets.push(changedToken);
    expect((await post(`/api/v1/users/${account.id}/logout/`, changedToken)).statusCode).toBe(200);
    const again = await loginAccount(app, account.email, NEW_PASSWORD);
    expect((await post(`/api/v1/users/${account.id}/logout/all/`, again)).statusCode).toBe(200);

    expect(await typesOf(account.id)).toEqual([
      'user.created',
      'user.login.succeeded',
      'user.login.failed',
      'session.revoked',
      'user.password.changed',
      'user.logout',
      'user.login.succeeded',
      'session.revoked',
    ]);
    const [created, login, failed, revoked, , , , all] = await eventsOf(account.id);
    expect(created).toMatchObject({
      userId: account.id,
      actor: { type: 'user' },
      ip: '127.0.0.1',
      userAgent: 'events-test/1.0',
      data: { email: account.email },
    });
    expect(created!.uid).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
    expect(login!.data).toEqual({ session_id: expect.any(Number) as number });
    expect(failed!.data).toEqual({ reason: 'wrong_password' });
    expect(revoked!.data).toEqual({ session_id: other.id });
    expect(all!.data).toEqual({ all: true, sessions: 1 });
  });

  it('records the operator, the links and the end of an account', async () => {
    const account = await signupAccount(app);
    await markEmailVerified(app.accounts, account, OPERATOR);
    expect(
      await post(`/api/v1/users/${account.id}/deactivate/`, account.token, { password: PASSWORD }),
    ).toMatchObject({ statusCode: 200 });
    await activateAccount(app.accounts, account.id, OPERATOR);

    const user = (await app.accounts.store.users.findUserById(account.id))!;
    const reset = await replaceAccountToken(app.accounts, app.accounts.store, {
      userId: account.id,
      kind: 'reset',
      credentialsVersion: user.credentialsVersion,
      ttlMs: 60_000,
    });
    secrets.push(reset);
    expect(
      (
        await post('/api/v1/users/password/reset/confirm/', null, {
          token: reset,
          new_password: NEW_PASSWORD,
        })
      ).statusCode,
    ).toBe(200);
    const newEmail = uniqueEmail('moved');
    const afterReset = (await app.accounts.store.users.findUserById(account.id))!;
    const change = await replaceAccountToken(app.accounts, app.accounts.store, {
      userId: account.id,
      kind: 'email_change',
      newEmail,
      credentialsVersion: afterReset.credentialsVersion,
      ttlMs: 60_000,
    });
    secrets.push(change);
    expect((await post('/api/v1/users/email/verify/', null, { token: change })).statusCode).toBe(200);
    const token = await loginAccount(app, newEmail, NEW_PASSWORD);
    expect(
      (await post(`/api/v1/users/${account.id}/delete/`, token, { password: NEW_PASSWORD })).statusCode,
    ).toBe(200);

    const events = await eventsOf(account.id);
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.email.verified',
      'user.deactivated',
      'user.activated',
      'user.password.reset',
      'user.email.changed',
      'user.login.succeeded',
      'user.deleted',
    ]);
    expect(events[1]!.actor).toEqual({ type: 'cli', name: 'test' });
    expect(events[2]).toMatchObject({ actor: { type: 'user' }, data: { sessions_ended: 1 } });
    expect(events[3]!.actor).toEqual({ type: 'cli', name: 'test' });
    expect(events[5]!.data).toEqual({ email: newEmail });
    // The log outlives the account.
    expect(await app.accounts.store.users.findUserById(account.id)).toBeUndefined();
  });

  it('writes no event for an unknown email, a throttled attempt or a refused change', async () => {
    const before = await app.accounts.store.events.list({ limit: 100_000 });
    await post('/api/v1/users/login/', null, { email: uniqueEmail('nobody'), password: 'wrong password!' });
    const account = await signupAccount(app);
    const count = (await eventsOf(account.id)).length;
    // A too-short new password is refused before anything changes.
    await post(`/api/v1/users/${account.id}/password/`, account.token, {
      current_password: PASSWORD,
      new_password: 'short',
    });
    expect(await eventsOf(account.id)).toHaveLength(count);
    const after = await app.accounts.store.events.list({ limit: 100_000 });
    expect(after.filter((e) => !before.some((b) => b.uid === e.uid)).map((e) => e.type)).toEqual([
      'user.created',
    ]);
  });

  it('commits an event with its change or not at all', async () => {
    const account = await signupAccount(app);
    await expect(
      app.accounts.store.transaction(async (tx) => {
        await tx.users.setUserActive(account.id, false);
        await recordEvent(app.accounts, tx, 'user.deactivated', { userId: account.id, client: OPERATOR });
        throw new Error('the change fails after its event was written');
      }),
    ).rejects.toThrow('the change fails');
    expect(await typesOf(account.id)).toEqual(['user.created']);
    expect((await app.accounts.store.users.findUserById(account.id))!.isActive).toBe(true);
  });

  it('refuses event data that names a secret', async () => {
    await expect(
      app.accounts.store.transaction((tx) =>
        recordEvent(app.accounts, tx, 'user.created', {
          userId: null,
          client: OPERATOR,
          data: { reset_token: 'x' },
        }),
      ),
    ).rejects.toThrow(/must not carry a secret/);
  });

  it('holds no password, token or hash anywhere in the log', async () => {
    const rows = await app.accounts.store.events.list({ limit: 100_000 });
    const dump = JSON.stringify(rows);
    const hashes = secrets.map((s) => createHash('sha256').update(s).digest('hex'));
    for (const secret of [...secrets, ...hashes]) expect(dump).not.toContain(secret);
    expect(dump).not.toMatch(/\$argon2|ras_(reset|verify)_|pbkdf2/);
  });
});

describeEachDatabase('GET /api/v1/users/{userid}/events/', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url());
  });
  afterAll(() => app.close());

  const page = (id: number, token: string, query = '') =>
    app.inject({ url: `/api/v1/users/${id}/events/${query}`, headers: authHeader(token) });

  it("lists the account's own events, newest first, page by page", async () => {
    const account = await signupAccount(app);
    for (let i = 0; i < 4; i++) await loginAccount(app, account.email);
    const first = await page(account.id, account.token, '?limit=3');
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const body = first.json<{
      message: string;
      result: { id: string; type: string; user_id: number }[];
      next_before: string;
    }>();
    expect(body.message).toBe('events');
    expect(body.result.map((e) => e.type)).toEqual([
      'user.login.succeeded',
      'user.login.succeeded',
      'user.login.succeeded',
    ]);
    expect(body.result.every((e) => e.user_id === account.id)).toBe(true);
    expect(body.next_before).toBe(body.result[2]!.id);
    const second = (await page(account.id, account.token, `?limit=3&before=${body.next_before}`)).json<{
      result: { type: string; actor: object; created_at: string }[];
      next_before: string | null;
    }>();
    expect(second.result.map((e) => e.type)).toEqual(['user.login.succeeded', 'user.created']);
    expect(second.next_before).toBeNull();
    expect(second.result[1]).toMatchObject({
      actor: { type: 'user' },
      created_at: expect.stringMatching(/Z$/) as string,
    });
  });

  it("answers 403 for another account's events and 400 for a malformed page", async () => {
    const [one, two] = [await signupAccount(app), await signupAccount(app)];
    expect((await page(two.id, one.token)).json()).toEqual({
      detail: 'You do not have permission to perform this action.',
    });
    for (const query of ['?limit=0', '?limit=101', '?before=17', '?before=evt_short'])
      expect((await page(one.id, one.token, query)).statusCode).toBe(400);
    expect((await app.inject({ url: `/api/v1/users/${one.id}/events/` })).statusCode).toBe(401);
  });

  it('lists every event type the contract names, and only those', () => {
    expect(EVENT_TYPES).toHaveLength(18);
  });
});
