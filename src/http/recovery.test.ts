/**
 * Recovery and the account's lifecycle by email, against a real SMTP server in the test process: every mail
 * kind arrives with a working link; tokens are single-use, expire, are superseded; resets end every session.
 * @see issue 12
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  databaseOfItsOwn,
  describeEachStore,
  PASSWORD,
  signupAccount,
  type TestAccount,
  uniqueEmail,
} from '../../test/helpers.js';
import { startMailServer, tokenIn } from '../../test/mail-server.js';

const NEW_PASSWORD = 'a brand new passphrase';
const RESET_URL = 'https://app.example.com/reset-password?token={token}';
const VERIFY_URL = 'https://app.example.com/verify-email?token={token}';
const mailEnv = (smtpUrl: string) => ({
  SMTP_URL: smtpUrl,
  RESET_URL,
  VERIFY_URL,
  MAIL_FROM: 'Ras <ras@example.com>',
});

describeEachStore('recovery by email', (database, env) => {
  let mail: Awaited<ReturnType<typeof startMailServer>>;
  let app: FastifyInstance;
  let other: FastifyInstance;
  let clock = Date.now();
  let own: Awaited<ReturnType<typeof databaseOfItsOwn>>;
  beforeAll(async () => {
    mail = await startMailServer();
    own = await databaseOfItsOwn(database);
    const url = own.url;
    app = await buildTestApp(url, { ...env, ...mailEnv(mail.url) }, { now: () => clock, mailPollMs: 100 });
    // A second instance on the same database (SQLite: the same file) to see resets hold everywhere.
    other = await buildTestApp(url, { ...env, ...mailEnv(mail.url) }, { now: () => clock, mailPollMs: 100 });
  });
  afterAll(async () => {
    await app.close();
    await other.close();
    await mail.close();
    await own.drop();
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}, instance = app) =>
    instance.inject({ method: 'POST', url, payload, headers });
  const requestReset = (email: unknown) => post('/api/v1/users/password/reset/', { email });
  const confirm = (token: string, password = NEW_PASSWORD) =>
    post('/api/v1/users/password/reset/confirm/', { token, new_password: password });
  const me = (account: TestAccount, token: string, instance = app) =>
    instance.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(token) });
  const login = (email: string, password: string) => post('/api/v1/users/login/', { email, password });

  it('mails a working reset link; the reset ends every session on every instance and is told by mail', async () => {
    const account = await signupAccount(app);
    const reset = await requestReset(account.email.toUpperCase());
    expect(reset.json()).toEqual({
      status_code: 200,
      message: 'if an account exists for this email, a password reset link has been sent',
    });
    const [resetMail] = await mail.waitForSubject(account.email, 'Reset');
    expect(resetMail!.subject).toBe('Reset your Ras password');
    expect(resetMail!.text).toContain('https://app.example.com/reset-password?token=ras_reset_');
    expect(resetMail!.html).toContain('href="https://app.example.com/reset-password?token=ras_reset_');
    const token = tokenIn(resetMail!);
    expect((await confirm(token)).json()).toEqual({
      status_code: 200,
      message: 'your password has been reset',
    });
    expect((await me(account, account.token)).statusCode).toBe(401);
    expect((await me(account, account.token, other)).statusCode).toBe(401);
    expect((await login(account.email, PASSWORD)).statusCode).toBe(400);
    expect((await login(account.email, NEW_PASSWORD)).statusCode).toBe(200);
    expect((await confirm(token, 'yet another passphrase')).json()).toEqual({
      status_code: 400,
      message: 'invalid or expired token',
    });
    await mail.waitForSubject(account.email, 'Your Ras password was changed');
  });

  it('sends each mail once while two instances deliver from one outbox', async () => {
    const accounts = await Promise.all(Array.from({ length: 8 }, () => signupAccount(app)));
    await Promise.all(
      accounts.map((a, i) =>
        post('/api/v1/users/password/reset/', { email: a.email }, {}, i % 2 ? app : other),
      ),
    );
    for (const a of accounts) await mail.waitForSubject(a.email, 'Reset');
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const a of accounts) {
      expect(mail.to(a.email).filter((m) => m.subject.startsWith('Reset'))).toHaveLength(1);
      expect(mail.to(a.email).filter((m) => m.subject.startsWith('Confirm'))).toHaveLength(1);
    }
  });

  it('answers an unknown and a deactivated email the same, and mails neither; a malformed one is 400', async () => {
    const unknown = uniqueEmail('nobody');
    const deactivated = await signupAccount(app);
    await post(
      `/api/v1/users/${deactivated.id}/deactivate/`,
      { password: PASSWORD },
      authHeader(deactivated.token),
    );
    const answers = [await requestReset(unknown), await requestReset(deactivated.email)];
    for (const res of answers) {
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(
        '{"status_code":200,"message":"if an account exists for this email, a password reset link has been sent"}',
      );
    }
    expect((await requestReset('not an email')).json()).toEqual({
      status_code: 400,
      message: 'please enter a valid email address',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mail.to(unknown)).toEqual([]);
    expect(mail.to(deactivated.email).filter((m) => m.subject.startsWith('Reset'))).toEqual([]);
  });

  it('mails at most three reset links an hour; the last stays valid, a newer one supersedes the older', async () => {
    const account = await signupAccount(app);
    for (let i = 0; i < 5; i++) expect((await requestReset(account.email)).statusCode).toBe(200);
    const resets = await mail.waitForSubject(account.email, 'Reset', 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mail.to(account.email).filter((m) => m.subject.startsWith('Reset'))).toHaveLength(3);
    // Two instances deliver, so the mails may arrive in any order: only the newest link works.
    const answers = [];
    for (const reset of resets) answers.push((await confirm(tokenIn(reset))).statusCode);
    expect(answers.sort()).toEqual([200, 400, 400]);
  });

  it('mails at most three email-change requests an hour; more answer the same and send nothing', async () => {
    const account = await signupAccount(app);
    const targets = Array.from({ length: 5 }, () => uniqueEmail('capped'));
    for (const new_email of targets) {
      const res = await post(
        `/api/v1/users/${account.id}/email/`,
        { password: PASSWORD, new_email },
        authHeader(account.token),
      );
      expect(res.json()).toEqual({
        status_code: 200,
        message: 'a confirmation link has been sent to the new address',
      });
    }
    for (const target of targets.slice(0, 3)) await mail.waitFor(target);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(targets.slice(3).flatMap((target) => mail.to(target))).toEqual([]);
  });

  it('refuses a new password that fails the policy and keeps the link usable', async () => {
    const account = await signupAccount(app);
    await requestReset(account.email);
    const token = tokenIn((await mail.waitForSubject(account.email, 'Reset'))[0]!);
    expect((await confirm(token, 'short')).json()).toEqual({
      status_code: 400,
      message: 'password must be at least 8 characters',
    });
    expect((await confirm(token)).statusCode).toBe(200);
  });

  it('lets exactly one of 10 concurrent confirmations with one token through', async () => {
    const account = await signupAccount(app);
    await requestReset(account.email);
    const token = tokenIn((await mail.waitForSubject(account.email, 'Reset'))[0]!);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => confirm(token, `${NEW_PASSWORD} ${i}`)),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.statusCode === 400)).toHaveLength(9);
  });

  it('refuses a token after it expires, and after the account was deactivated', async () => {
    const expiring = await signupAccount(app);
    await requestReset(expiring.email);
    const expired = tokenIn((await mail.waitForSubject(expiring.email, 'Reset'))[0]!);
    clock += 3601 * 1000;
    expect((await confirm(expired)).statusCode).toBe(400);
    const account = await signupAccount(app);
    await requestReset(account.email);
    const token = tokenIn((await mail.waitForSubject(account.email, 'Reset'))[0]!);
    await post(`/api/v1/users/${account.id}/deactivate/`, { password: PASSWORD }, authHeader(account.token));
    expect((await confirm(token)).json()).toEqual({ status_code: 400, message: 'invalid or expired token' });
  });

  it('verifies the email with the link mailed at signup, once', async () => {
    const account = await signupAccount(app);
    const [verification] = await mail.waitForSubject(account.email, 'Confirm your email address');
    const view = () =>
      app.inject({ url: `/api/v1/users/${account.id}/account/`, headers: authHeader(account.token) });
    expect((await view()).json()).toMatchObject({
      status_code: 200,
      message: 'account',
      result: { id: account.id, email: account.email, email_verified: false, password_changed_at: null },
    });
    const token = tokenIn(verification!);
    expect((await post('/api/v1/users/email/verify/', { token })).json()).toEqual({
      status_code: 200,
      message: 'email verified',
    });
    expect((await view()).json<{ result: { email_verified: boolean } }>().result.email_verified).toBe(true);
    expect((await post('/api/v1/users/email/verify/', { token })).statusCode).toBe(400);
    const resend = await post(
      `/api/v1/users/${account.id}/email/verify/resend/`,
      {},
      authHeader(account.token),
    );
    expect(resend.json()).toEqual({ status_code: 200, message: 'verification email sent' });
    await mail.waitForSubject(account.email, 'Confirm your email address', 2);
  });

  it('changes the email only when the link sent to the new address is followed, and tells the old one', async () => {
    const account = await signupAccount(app);
    const taken = await signupAccount(app);
    const change = (payload: object) =>
      post(`/api/v1/users/${account.id}/email/`, payload, authHeader(account.token));
    const newEmail = uniqueEmail('moved');
    expect((await change({ password: 'wrong password', new_email: newEmail })).statusCode).toBe(400);
    expect((await change({ password: PASSWORD, new_email: 'nope' })).json()).toEqual({
      status_code: 400,
      message: 'please enter a valid email address',
    });
    // A taken address answers as a free one; its owner gets a notice, never a link.
    const takenAnswer = await change({ password: PASSWORD, new_email: taken.email });
    expect(takenAnswer.json()).toEqual({
      status_code: 200,
      message: 'a confirmation link has been sent to the new address',
    });
    const [notice] = await mail.waitForSubject(taken.email, 'Someone tried to use your email address');
    expect(notice!.text).not.toContain('ras_');
    expect((await change({ password: PASSWORD, new_email: newEmail })).json()).toEqual({
      status_code: 200,
      message: 'a confirmation link has been sent to the new address',
    });
    expect((await login(account.email, PASSWORD)).statusCode).toBe(200);
    const [confirmation] = await mail.waitFor(newEmail);
    expect((await post('/api/v1/users/email/verify/', { token: tokenIn(confirmation!) })).statusCode).toBe(
      200,
    );
    expect((await login(newEmail, PASSWORD)).statusCode).toBe(200);
    expect((await me(account, account.token)).json<{ email: string }>().email).toBe(newEmail);
    await mail.waitForSubject(account.email, 'Your Ras email address was changed');
  });

  it('deletes the account: every token ends, the email is free, a new signup gets a new, larger id', async () => {
    const account = await signupAccount(app);
    const remove = (password: string) =>
      post(`/api/v1/users/${account.id}/delete/`, { password }, authHeader(account.token));
    expect((await remove('wrong password')).statusCode).toBe(400);
    expect((await remove(PASSWORD)).json()).toEqual({
      status_code: 200,
      message: 'your account has been deleted',
    });
    expect((await me(account, account.token)).statusCode).toBe(401);
    expect((await me(account, account.token, other)).statusCode).toBe(401);
    const again = await signupAccount(app, account.email);
    expect(again.id).toBeGreaterThan(account.id);
    await mail.waitForSubject(account.email, 'Your Ras account was deleted');
  });
});

describe('recovery without mail, and REQUIRE_VERIFIED_EMAIL', () => {
  it('answers the reset route 503 without SMTP_URL, and signup sends nothing', async () => {
    const app = await buildTestApp('sqlite::memory:');
    try {
      await signupAccount(app);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/password/reset/',
        payload: { email: 'user@user.com' },
      });
      expect(res.json()).toEqual({ status_code: 503, message: 'email delivery is not configured' });
    } finally {
      await app.close();
    }
  });

  it('refuses the login of an unverified account with 403 and opens no session; signup still answers the seed', async () => {
    const mail = await startMailServer();
    const app = await buildTestApp(
      'sqlite::memory:',
      { ...mailEnv(mail.url), REQUIRE_VERIFIED_EMAIL: 'on' },
      { mailPollMs: 50 },
    );
    try {
      const account = await signupAccount(app);
      // The signup token opens only the routes that let the owner verify, look, or leave.
      const call = (method: 'GET' | 'POST', path: string, payload?: object) =>
        app.inject({
          method,
          url: `/api/v1/users/${account.id}/${path}`,
          headers: authHeader(account.token),
          ...(payload ? { payload } : {}),
        });
      const unverified = { status_code: 403, message: 'please verify your email address first' };
      expect((await call('GET', '')).json()).toEqual(unverified);
      expect((await call('GET', 'sessions/')).json()).toEqual(unverified);
      expect((await call('POST', 'logout/all/')).json()).toEqual(unverified);
      expect(
        (
          await call('POST', 'password/', { current_password: PASSWORD, new_password: 'x'.repeat(12) })
        ).json(),
      ).toEqual(unverified);
      expect((await call('POST', 'email/', { password: PASSWORD, new_email: uniqueEmail() })).json()).toEqual(
        unverified,
      );
      expect((await call('GET', 'account/')).statusCode).toBe(200);
      expect((await call('POST', 'email/verify/resend/', {})).statusCode).toBe(200);
      const login = () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: account.email, password: PASSWORD },
        });
      expect((await login()).json()).toEqual({
        status_code: 403,
        message: 'please verify your email address first',
      });
      // The link asked for again supersedes the one mailed at signup.
      const verification = (await mail.waitFor(account.email, 2))[1];
      await app.inject({
        method: 'POST',
        url: '/api/v1/users/email/verify/',
        payload: { token: tokenIn(verification!) },
      });
      expect((await login()).statusCode).toBe(200);
      expect((await call('GET', '')).statusCode).toBe(200);
      expect((await call('POST', 'logout/')).statusCode).toBe(200);
    } finally {
      await app.close();
      await mail.close();
    }
  });
});

describe('the outbox', () => {
  it('delays mail while SMTP is down, never the request; retries with backoff on the clock it is given', async () => {
    const probe = await startMailServer();
    const port = probe.port;
    await probe.close();
    let clock = Date.now();
    let log = '';
    const app = await buildTestApp(
      'sqlite::memory:',
      { ...mailEnv(`smtp://127.0.0.1:${port}`), LOG_LEVEL: 'warn' },
      { now: () => clock, mailPollMs: 20, logStream: new PassThrough().on('data', (d) => (log += d)) },
    );
    try {
      const { email } = await signupAccount(app);
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/password/reset/',
        payload: { email },
      });
      expect(res.statusCode).toBe(200);
      // Both tried once and waiting for their backoff: nothing more happens until the clock moves.
      while (log.split('mail not sent; will retry').length - 1 < 2)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const mail = await startMailServer(port);
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(mail.received).toEqual([]);
        clock += 60_000;
        const arrived = await mail.waitFor(email, 2);
        expect(arrived.map((m) => m.subject).sort()).toEqual([
          'Confirm your email address for Ras',
          'Reset your Ras password',
        ]);
      } finally {
        await mail.close();
      }
    } finally {
      await app.close();
    }
  });

  it('prunes finished rows a week after they finished', async () => {
    const mail = await startMailServer();
    let clock = Date.now();
    const app = await buildTestApp('sqlite::memory:', mailEnv(mail.url), {
      now: () => clock,
      mailPollMs: 20,
    });
    try {
      const { email } = await signupAccount(app);
      await app.inject({ method: 'POST', url: '/api/v1/users/password/reset/', payload: { email } });
      await mail.waitFor(email, 2);
      const outbox = app.accounts.store.outbox;
      expect(await outbox.pruneFinished(clock - 1)).toBe(0);
      clock += 8 * 24 * 60 * 60 * 1000;
      for (;;) {
        // The deliverer prunes in its rounds; nothing is left to prune once it has.
        if ((await outbox.pruneFinished(clock - 7 * 24 * 60 * 60 * 1000)) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await outbox.backlog(clock)).toEqual({ queued: 0, oldestAgeMs: 0 });
    } finally {
      await app.close();
      await mail.close();
    }
  });
});

describe('the outbox across a restart', () => {
  it('delivers after a restart a mail queued while SMTP was down', async () => {
    const probe = await startMailServer();
    const port = probe.port;
    await probe.close();
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ras-outbox-')), 'ras.db')}`;
    const first = await buildTestApp(url, mailEnv(`smtp://127.0.0.1:${port}`));
    const { email } = await signupAccount(first);
    await first.inject({ method: 'POST', url: '/api/v1/users/password/reset/', payload: { email } });
    await first.close();
    const mail = await startMailServer(port);
    const second = await buildTestApp(url, mailEnv(mail.url));
    try {
      await mail.waitForSubject(email, 'Reset', 1, 20_000);
    } finally {
      await second.close();
      await mail.close();
    }
  }, 30_000);
});
