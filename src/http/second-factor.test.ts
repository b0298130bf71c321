import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createResetToken, setPassword } from '../accounts/recovery.js';
import { resetSecondFactor } from '../accounts/second-factor.js';
import { timeStep, totpCode } from '../crypto/totp.js';
import { dump } from '../../test/dump.js';
import { mailEnv, startMailServer } from '../../test/mail-server.js';
import { enrolTotp } from '../../test/second-factor.js';
import {
  authHeader,
  buildTestApp,
  databaseOfItsOwn,
  describeEachDatabase,
  OPERATOR,
  PASSWORD,
  signupAccount,
  TEST_MFA_KEY,
  type TestAccount,
} from '../../test/helpers.js';

const NEW_PASSWORD = 'another long passphrase';
const SEED_LOGIN_KEYS = ['status_code', 'message', 'result'];

describeEachDatabase('a second factor: TOTP and recovery codes', (database) => {
  let app: FastifyInstance;
  let url: string;
  let drop: () => Promise<void>;
  let clock = Date.now();
  beforeAll(async () => {
    ({ url, drop } = await databaseOfItsOwn(database));
    app = await buildTestApp(url, { MFA_KEY: TEST_MFA_KEY, TRUST_PROXY: 'true' }, { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  let address = 0;
  /** Each request from its own address unless told: the per-address throttle is not what these tests test. */
  const post = (path: string, payload: object, token?: string, ip = `198.51.100.${address++ % 250}`) =>
    app.inject({
      method: 'POST',
      url: path,
      payload,
      headers: { 'x-forwarded-for': ip, ...(token ? authHeader(token) : {}) },
    });
  const login = (email: string, password = PASSWORD) => post('/api/v1/users/login/', { email, password });
  const secondStep = (payload: object) => post('/api/v1/users/login/mfa/', payload);
  const mfaTokenOf = (res: LightMyRequestResponse) =>
    res.json<{ result: { mfa_token: string } }>().result.mfa_token;
  /** The next 30 s step: a code not used yet. */
  const nextStep = () => (clock += 30_000);

  /** An account with TOTP on; returns it, its secret and its recovery codes. */
  async function enrolled(): Promise<{ account: TestAccount; secret: string; codes: string[] }> {
    const account = await signupAccount(app);
    const enrol = await post(`/api/v1/users/${account.id}/mfa/totp/`, { password: PASSWORD }, account.token);
    const { secret } = enrol.json<{ result: { secret: string } }>().result;
    const confirm = await post(
      `/api/v1/users/${account.id}/mfa/totp/confirm/`,
      { code: totpCode(secret, timeStep(clock)) },
      account.token,
    );
    expect(confirm.statusCode).toBe(200);
    nextStep();
    return {
      account,
      secret,
      codes: confirm.json<{ result: { recovery_codes: string[] } }>().result.recovery_codes,
    };
  }

  it('enrols: a pending secret, confirmed by a code from it, then ten recovery codes', async () => {
    const account = await signupAccount(app);
    const path = `/api/v1/users/${account.id}/mfa/totp/`;
    expect((await post(path, { password: 'not the password' }, account.token)).json()).toEqual({
      status_code: 400,
      message: 'Invalid username or password',
    });
    const first = (await post(path, { password: PASSWORD }, account.token)).json<{
      message: string;
      result: { secret: string; otpauth_url: string };
    }>();
    expect(first.message).toBe('scan the code, then confirm it');
    expect(first.result.secret).toMatch(/^[A-Z2-7]{32}$/);
    const otpauth = new URL(first.result.otpauth_url);
    expect(otpauth.searchParams.get('secret')).toBe(first.result.secret);
    expect(otpauth.searchParams.get('issuer')).toBe('Ras');
    // A new call replaces the unconfirmed secret: a code from the first no longer confirms.
    const { secret } = (await post(path, { password: PASSWORD }, account.token)).json<{
      result: { secret: string };
    }>().result;
    const confirm = `/api/v1/users/${account.id}/mfa/totp/confirm/`;
    expect(
      (await post(confirm, { code: totpCode(first.result.secret, timeStep(clock)) }, account.token)).json(),
    ).toEqual({
      status_code: 400,
      message: 'invalid code',
    });
    const status = () =>
      app.inject({ url: `/api/v1/users/${account.id}/mfa/`, headers: authHeader(account.token) });
    expect((await status()).json()).toEqual({
      status_code: 200,
      message: 'mfa',
      result: { totp: false, recovery_codes_left: 0, passkeys: [] },
    });
    const done = await post(confirm, { code: totpCode(secret, timeStep(clock)) }, account.token);
    expect(done.json<{ message: string }>().message).toBe('two-factor authentication enabled');
    const codes = done.json<{ result: { recovery_codes: string[] } }>().result.recovery_codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
    expect((await status()).json<{ result: object }>().result).toEqual({
      totp: true,
      recovery_codes_left: 10,
      passkeys: [],
    });
    expect((await post(path, { password: PASSWORD }, account.token)).json()).toEqual({
      status_code: 400,
      message: 'two-factor authentication is already enabled',
    });
  });

  it('asks for the second factor after a right password, opens no session, and accepts each code once', async () => {
    const { account, secret } = await enrolled();
    const sessionsBefore = (
      await app.accounts.store.sessions.listActiveSessionsOfUser(account.id, clock, { limit: 100 })
    ).length;
    const first = await login(account.email);
    expect(first.json()).toEqual({
      status_code: 200,
      message: 'second factor required',
      result: {
        id: account.id,
        mfa_token: expect.stringMatching(/^ras_mfa_[\w-]{43}$/) as string,
        methods: ['totp', 'recovery_code'],
      },
    });
    expect(
      (await app.accounts.store.sessions.listActiveSessionsOfUser(account.id, clock, { limit: 100 })).length,
    ).toBe(sessionsBefore);
    // Wrong password, unknown email: exactly as before.
    expect((await login(account.email, 'not the password')).json()).toEqual({
      status_code: 400,
      message: 'Invalid username or password',
    });

    const code = totpCode(secret, timeStep(clock));
    const signedIn = await secondStep({ mfa_token: mfaTokenOf(first), code });
    expect(signedIn.statusCode).toBe(200);
    const body = signedIn.json<{
      message: string;
      result: { id: number; email: string; auth_token: string };
    }>();
    expect(Object.keys(body)).toEqual(SEED_LOGIN_KEYS);
    expect(Object.keys(body.result)).toEqual(['id', 'email', 'auth_token']);
    expect(body.message).toBe('you have successfully logged in');
    expect(
      (await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(body.result.auth_token) }))
        .statusCode,
    ).toBe(200);

    // Single use, and the code's replay within its window is refused.
    expect((await secondStep({ mfa_token: mfaTokenOf(first), code })).json()).toEqual({
      status_code: 400,
      message: 'invalid or expired token',
    });
    expect((await secondStep({ mfa_token: mfaTokenOf(await login(account.email)), code })).json()).toEqual({
      status_code: 400,
      message: 'invalid code',
    });
    // The token lives 300 s.
    const late = await login(account.email);
    clock += 301_000;
    expect(
      (await secondStep({ mfa_token: mfaTokenOf(late), code: totpCode(secret, timeStep(clock)) })).json(),
    ).toEqual({
      status_code: 400,
      message: 'invalid or expired token',
    });
    const events = await app.accounts.store.events.list({ userId: account.id, limit: 100 });
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.mfa.enabled',
      'user.login.failed',
      'user.login.succeeded',
      'user.login.failed',
    ]);
    expect(events[3]!.data).toMatchObject({ method: 'totp' });
    expect(events[4]!.data).toEqual({ reason: 'wrong_code' });
  });

  it('takes each recovery code once, and new ones end the old', async () => {
    const { account, codes } = await enrolled();
    const use = async (recovery_code: string) =>
      secondStep({ mfa_token: mfaTokenOf(await login(account.email)), recovery_code });
    expect((await use(codes[0]!.toUpperCase().replaceAll('-', ' '))).statusCode).toBe(200);
    expect((await use(codes[0]!)).json()).toEqual({ status_code: 400, message: 'invalid code' });
    const status = await app.inject({
      url: `/api/v1/users/${account.id}/mfa/`,
      headers: authHeader(account.token),
    });
    expect(status.json<{ result: { recovery_codes_left: number } }>().result.recovery_codes_left).toBe(9);
    const renewed = await post(
      `/api/v1/users/${account.id}/mfa/recovery-codes/`,
      { password: PASSWORD },
      account.token,
    );
    expect(renewed.statusCode).toBe(200);
    expect((await use(codes[1]!)).statusCode).toBe(400);
    expect(
      (await use(renewed.json<{ result: { recovery_codes: string[] } }>().result.recovery_codes[0]!))
        .statusCode,
    ).toBe(200);
  });

  it('is kept by a reset and an operator set-password, removed by disable (password and code) or mfa-reset', async () => {
    const { account, secret, codes } = await enrolled();
    const user = (await app.accounts.store.users.findUserById(account.id))!;
    const reset = await createResetToken(app.accounts, user, 60_000);
    expect(
      (await post('/api/v1/users/password/reset/confirm/', { token: reset, new_password: NEW_PASSWORD }))
        .statusCode,
    ).toBe(200);
    expect((await login(account.email, NEW_PASSWORD)).json<{ message: string }>().message).toBe(
      'second factor required',
    );
    await setPassword(app.accounts, account, PASSWORD, OPERATOR);
    const challenged = await login(account.email);
    expect(challenged.json<{ message: string }>().message).toBe('second factor required');
    const token = (await secondStep({ mfa_token: mfaTokenOf(challenged), recovery_code: codes[0] })).json<{
      result: { auth_token: string };
    }>().result.auth_token;

    const disable = `/api/v1/users/${account.id}/mfa/totp/disable/`;
    expect((await post(disable, { password: PASSWORD, code: '000000' }, token)).json()).toEqual({
      status_code: 400,
      message: 'invalid code',
    });
    nextStep();
    expect(
      (await post(disable, { password: PASSWORD, code: totpCode(secret, timeStep(clock)) }, token)).json(),
    ).toEqual({
      status_code: 200,
      message: 'two-factor authentication disabled',
    });
    expect((await login(account.email)).json<{ message: string }>().message).toBe(
      'you have successfully logged in',
    );
    expect(
      (await secondStep({ mfa_token: mfaTokenOf(challenged), recovery_code: codes[1] })).statusCode,
    ).toBe(400);

    const other = await enrolled();
    expect(await resetSecondFactor(app.accounts, other.account, OPERATOR)).toBe(true);
    expect(await resetSecondFactor(app.accounts, other.account, OPERATOR)).toBe(false);
    expect((await login(other.account.email)).json<{ message: string }>().message).toBe(
      'you have successfully logged in',
    );
    const disabled = (
      await app.accounts.store.events.list({ userId: other.account.id, type: 'user.mfa.disabled', limit: 10 })
    )[0];
    expect(disabled!.actor).toEqual({ type: 'cli', name: 'test' });
  });

  it('checks at most 5 of 50 simultaneous wrong codes on one mfa_token; then the right code is refused', async () => {
    const { account, secret } = await enrolled();
    const mfaToken = mfaTokenOf(await login(account.email));
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => secondStep({ mfa_token: mfaToken, code: String(100000 + i) })),
    );
    const messages = answers.map((r) => r.json<{ message: string }>().message);
    expect(messages.filter((m) => m === 'invalid code')).toHaveLength(5);
    expect(messages.filter((m) => m === 'invalid or expired token')).toHaveLength(45);
    expect(
      (await secondStep({ mfa_token: mfaToken, code: totpCode(secret, timeStep(clock)) })).json(),
    ).toEqual({
      status_code: 400,
      message: 'invalid or expired token',
    });
    const failed = await app.accounts.store.events.list({
      userId: account.id,
      type: 'user.login.failed',
      limit: 100,
    });
    expect(failed).toHaveLength(5);
  });

  it('counts the attempts of one challenge in one statement: 5 of 50 simultaneous reservations', async () => {
    const { account } = await enrolled();
    const mfaToken = mfaTokenOf(await login(account.email));
    const { hashToken } = await import('../crypto/tokens.js');
    const reserved = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.accounts.store.mfa.reserveChallengeAttempt(hashToken(mfaToken), clock, 5),
      ),
    );
    expect(reserved.filter(Boolean)).toHaveLength(5);
  });

  it('opens one session for one recovery code used 10 times at once, and one for one TOTP code sent twice at once', async () => {
    const { account, secret, codes } = await enrolled();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, async () => mfaTokenOf(await login(account.email))),
    );
    const recovery = await Promise.all(
      tokens.map((mfa_token) => secondStep({ mfa_token, recovery_code: codes[0] })),
    );
    expect(recovery.map((r) => r.statusCode).sort()).toEqual([200, ...Array<number>(9).fill(400)]);
    for (let round = 0; round < 3; round++) {
      nextStep();
      const [a, b] = await Promise.all([login(account.email), login(account.email)]);
      const code = totpCode(secret, timeStep(clock));
      const both = await Promise.all([
        secondStep({ mfa_token: mfaTokenOf(a), code }),
        secondStep({ mfa_token: mfaTokenOf(b), code }),
      ]);
      expect(both.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    }
  });

  if (database.name === 'postgres')
    it('opens one session for one TOTP code sent at once to two instances on one PostgreSQL', async () => {
      const second = await buildTestApp(
        url,
        { MFA_KEY: TEST_MFA_KEY, TRUST_PROXY: 'true' },
        { now: () => clock },
      );
      try {
        const { account, secret } = await enrolled();
        for (let round = 0; round < 5; round++) {
          nextStep();
          const [a, b] = await Promise.all([login(account.email), login(account.email)]);
          const code = totpCode(secret, timeStep(clock));
          const on = (instance: FastifyInstance, mfa_token: string, ip: string) =>
            instance.inject({
              method: 'POST',
              url: '/api/v1/users/login/mfa/',
              payload: { mfa_token, code },
              headers: { 'x-forwarded-for': ip },
            });
          const both = await Promise.all([
            on(app, mfaTokenOf(a), '192.0.2.1'),
            on(second, mfaTokenOf(b), '192.0.2.2'),
          ]);
          expect(both.map((r) => r.statusCode).sort()).toEqual([200, 400]);
        }
      } finally {
        await second.close();
      }
    });

  it('leaves the seed answers of an account without a factor byte for byte as they were', async () => {
    await enrolled();
    const plain = await signupAccount(app);
    const res = await login(plain.email);
    expect(Object.keys(res.json<object>())).toEqual(SEED_LOGIN_KEYS);
    expect(res.json()).toEqual({
      status_code: 200,
      message: 'you have successfully logged in',
      result: { id: plain.id, email: plain.email, auth_token: expect.stringMatching(/^ras_/) as string },
    });
    expect(res.body).toBe(
      `{"status_code":200,"message":"you have successfully logged in","result":{"id":${plain.id},"email":"${plain.email}","auth_token":"${res.json<{ result: { auth_token: string } }>().result.auth_token}"}}`,
    );
  });

  it('keeps no TOTP secret and no recovery code anywhere in the database', async () => {
    const { secret, codes } = await enrolled();
    const text = dump(url);
    expect(text).not.toContain(secret);
    for (const code of codes) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(code.replaceAll('-', ''));
    }
  });
});

describeEachDatabase('a second factor without MFA_KEY', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url());
  });
  afterAll(() => app.close());

  it('answers enrolment 503 and leaves everything else as it was', async () => {
    const account = await signupAccount(app);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/mfa/totp/`,
      headers: authHeader(account.token),
      payload: { password: PASSWORD },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status_code: 503, message: 'two-factor authentication is not configured' });
    const status = await app.inject({
      url: `/api/v1/users/${account.id}/mfa/`,
      headers: authHeader(account.token),
    });
    expect(status.json<{ result: object }>().result).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: [],
    });
  });
});

describeEachDatabase('a second factor: the owner is told', (database) => {
  it('mails a notice when the factor is turned on and when it is turned off', async () => {
    const { url, drop } = await databaseOfItsOwn(database);
    const mail = await startMailServer();
    const app = await buildTestApp(url, { MFA_KEY: TEST_MFA_KEY, ...mailEnv(mail.url) }, { mailPollMs: 50 });
    try {
      const account = await signupAccount(app);
      await enrolTotp(app, account);
      const [on] = await mail.waitForSubject(account.email, 'Two-factor authentication is on');
      expect(on!.text).toContain(account.email);
      await resetSecondFactor(app.accounts, account, OPERATOR);
      await mail.waitForSubject(account.email, 'Two-factor authentication is off');
    } finally {
      await app.close();
      await mail.close();
      await drop();
    }
  });
});
