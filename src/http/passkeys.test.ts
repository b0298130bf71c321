import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resetSecondFactor } from '../accounts/second-factor.js';
import { enrolTotp } from '../../test/second-factor.js';
import { SoftAuthenticator } from '../../test/soft-authenticator.js';
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
  untilBlockedBy,
} from '../../test/helpers.js';

type Options = { challenge: string; rp: { id: string }; user: { id: string } };
type RequestOptions = { challenge: string; allowCredentials?: { id: string }[] };

describeEachDatabase('passkeys (WebAuthn)', (database) => {
  let app: FastifyInstance;
  let url: string;
  let drop: () => Promise<void>;
  let clock = Date.now();
  beforeAll(async () => {
    ({ url, drop } = await databaseOfItsOwn(database));
    app = await buildTestApp(url, { MFA_KEY: TEST_MFA_KEY }, { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  const post = (path: string, payload: object, token?: string) =>
    app.inject({ method: 'POST', url: path, payload, headers: token ? authHeader(token) : {} });
  const resultOf = <T>(res: LightMyRequestResponse) => res.json<{ result: T }>().result;

  /** An account with one passkey on `authenticator` (a new one unless given). */
  async function withPasskey(authenticator = new SoftAuthenticator()) {
    const account = await signupAccount(app);
    const passkey = await register(account, authenticator);
    expect(passkey.statusCode).toBe(201);
    return { account, authenticator, passkeyId: resultOf<{ id: number }>(passkey).id };
  }

  async function register(account: TestAccount, authenticator: SoftAuthenticator, name = 'Laptop') {
    const options = await post(`/api/v1/users/${account.id}/passkeys/options/`, {}, account.token);
    expect(options.statusCode).toBe(200);
    const response = authenticator.register(resultOf<Options>(options));
    return post(`/api/v1/users/${account.id}/passkeys/`, { name, response }, account.token);
  }

  async function passwordlessOptions(): Promise<RequestOptions> {
    const res = await post('/api/v1/users/login/passkey/options/', {});
    expect(res.statusCode).toBe(200);
    return resultOf<RequestOptions>(res);
  }

  const passwordless = (response: object) => post('/api/v1/users/login/passkey/', { response });

  const eventsOf = async (account: TestAccount) =>
    resultOf<{ type: string; data: Record<string, unknown> }[]>(
      await app.inject({
        method: 'GET',
        url: `/api/v1/users/${account.id}/events/`,
        headers: authHeader(account.token),
      }),
    );

  it('registers a passkey with a discoverable credential and user verification required', async () => {
    const account = await signupAccount(app);
    const options = resultOf<Record<string, unknown>>(
      await post(`/api/v1/users/${account.id}/passkeys/options/`, {}, account.token),
    );
    expect(options).toMatchObject({
      rp: { id: 'localhost' },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: 'none',
    });
    expect((options.challenge as string).length).toBeGreaterThanOrEqual(43); // 256 bits
    const authenticator = new SoftAuthenticator();
    const response = authenticator.register(options as Options);
    const added = await post(
      `/api/v1/users/${account.id}/passkeys/`,
      { name: 'Phone', response },
      account.token,
    );
    expect(added.statusCode).toBe(201);
    expect(resultOf(added)).toMatchObject({ name: 'Phone' });
    const status = resultOf<{ passkeys: { name: string; last_used_at: null }[] }>(
      await app.inject({
        method: 'GET',
        url: `/api/v1/users/${account.id}/mfa/`,
        headers: authHeader(account.token),
      }),
    );
    expect(status.passkeys).toMatchObject([{ name: 'Phone', last_used_at: null }]);
    // The same response again: its challenge is used up.
    const again = await post(`/api/v1/users/${account.id}/passkeys/`, { response }, account.token);
    expect(again.json()).toEqual({ status_code: 400, message: 'the passkey could not be verified' });
    expect((await eventsOf(account)).map((e) => e.type)).toContain('passkey.added');
  });

  it('refuses a registration without user verification, from another origin, or for another account', async () => {
    const account = await signupAccount(app);
    const other = await signupAccount(app);
    const authenticator = new SoftAuthenticator();
    const optionsFor = async (who: TestAccount) =>
      resultOf<Options>(await post(`/api/v1/users/${who.id}/passkeys/options/`, {}, who.token));
    for (const response of [
      authenticator.register(await optionsFor(account), { noUserVerification: true }),
      authenticator.register(await optionsFor(account), { origin: 'https://evil.example' }),
      authenticator.register(await optionsFor(other)),
    ]) {
      const res = await post(`/api/v1/users/${account.id}/passkeys/`, { response }, account.token);
      expect(res.statusCode).toBe(400);
    }
    const tooLong = await register(account, authenticator, 'x'.repeat(101));
    expect(tooLong.json()).toEqual({ status_code: 400, message: 'a passkey name is 1 to 100 characters' });
  });

  it('signs in with the passkey alone: the seed login answer, a working session', async () => {
    const { account, authenticator } = await withPasskey();
    const res = await passwordless(authenticator.authenticate(await passwordlessOptions()));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ message: string; result: { id: number; email: string; auth_token: string } }>();
    expect(body.message).toBe('you have successfully logged in');
    expect(Object.keys(body.result)).toEqual(['id', 'email', 'auth_token']);
    expect(body.result).toMatchObject({ id: account.id, email: account.email });
    const me = await app.inject({
      method: 'GET',
      url: `/api/v1/users/${account.id}/`,
      headers: authHeader(body.result.auth_token),
    });
    expect(me.statusCode).toBe(200);
    const login = (await eventsOf(account)).find((e) => e.type === 'user.login.succeeded');
    expect(login?.data).toMatchObject({ method: 'passkey' });
  });

  it('uses a challenge once, and not after 300 s', async () => {
    const { authenticator } = await withPasskey();
    const response = authenticator.authenticate(await passwordlessOptions());
    expect((await passwordless(response)).statusCode).toBe(200);
    expect((await passwordless(response)).json()).toEqual({
      status_code: 400,
      message: 'the passkey could not be verified',
    });
    const late = authenticator.authenticate(await passwordlessOptions());
    clock += 300_001;
    expect((await passwordless(late)).statusCode).toBe(400);
  });

  it('refuses a login without user verification or from another origin', async () => {
    const { authenticator } = await withPasskey();
    const noUv = authenticator.authenticate(await passwordlessOptions(), { noUserVerification: true });
    expect((await passwordless(noUv)).statusCode).toBe(400);
    const phished = authenticator.authenticate(await passwordlessOptions(), {
      origin: 'https://evil.example',
    });
    expect((await passwordless(phished)).statusCode).toBe(400);
  });

  it('refuses a signature counter that goes backwards, and says so in the event log', async () => {
    const { account, authenticator, passkeyId } = await withPasskey();
    for (let i = 0; i < 3; i++)
      expect((await passwordless(authenticator.authenticate(await passwordlessOptions()))).statusCode).toBe(
        200,
      );
    const cloned = authenticator.authenticate(await passwordlessOptions(), { counter: 2 });
    expect((await passwordless(cloned)).statusCode).toBe(400);
    const failure = (await eventsOf(account)).find((e) => e.type === 'user.login.failed');
    expect(failure?.data).toEqual({
      reason: 'passkey_counter_regressed',
      passkey_id: passkeyId,
      counter_seen: 2,
      counter_stored: 3,
    });
    // The genuine authenticator, counting on, still signs in.
    expect((await passwordless(authenticator.authenticate(await passwordlessOptions()))).statusCode).toBe(
      200,
    );
  });

  it('is a second factor: a right password asks for it, and it completes the login', async () => {
    const { account, authenticator } = await withPasskey();
    const first = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    const challenge = resultOf<{ mfa_token: string; methods: string[] }>(first);
    expect(challenge.methods).toEqual(['webauthn']);
    const options = await post('/api/v1/users/login/mfa/options/', { mfa_token: challenge.mfa_token });
    expect(options.statusCode).toBe(200);
    const requestOptions = resultOf<RequestOptions>(options);
    expect(requestOptions.allowCredentials).toHaveLength(1);
    const webauthn = authenticator.authenticate(requestOptions);
    const done = await post('/api/v1/users/login/mfa/', { mfa_token: challenge.mfa_token, webauthn });
    expect(done.statusCode).toBe(200);
    expect(done.json<{ message: string }>().message).toBe('you have successfully logged in');
    // The mfa_token is used up.
    expect(
      (await post('/api/v1/users/login/mfa/options/', { mfa_token: challenge.mfa_token })).statusCode,
    ).toBe(400);
  });

  it("refuses another account's passkey, or a passwordless challenge, as the second step", async () => {
    const { account } = await withPasskey();
    const stranger = await withPasskey();
    const first = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    const mfaToken = resultOf<{ mfa_token: string }>(first).mfa_token;
    const options = resultOf<RequestOptions>(
      await post('/api/v1/users/login/mfa/options/', { mfa_token: mfaToken }),
    );
    const foreign = stranger.authenticator.authenticate({ challenge: options.challenge });
    const wrong = await post('/api/v1/users/login/mfa/', { mfa_token: mfaToken, webauthn: foreign });
    expect(wrong.json()).toEqual({ status_code: 400, message: 'invalid code' });
    const loose = stranger.authenticator.authenticate(await passwordlessOptions());
    expect(
      (await post('/api/v1/users/login/mfa/', { mfa_token: mfaToken, webauthn: loose })).statusCode,
    ).toBe(400);
  });

  it('has no TOTP to turn off on an account with passkeys only', async () => {
    const { account } = await withPasskey();
    const off = await post(
      `/api/v1/users/${account.id}/mfa/totp/disable/`,
      { password: PASSWORD, code: '123456' },
      account.token,
    );
    expect(off.json()).toEqual({ status_code: 400, message: 'two-factor authentication is not enabled' });
    const first = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    expect(resultOf<{ methods: string[] }>(first).methods).toEqual(['webauthn']);
  });

  it('offers TOTP, recovery codes and passkeys together', async () => {
    const { account } = await withPasskey();
    await enrolTotp(app, account, clock);
    const first = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    expect(resultOf<{ methods: string[] }>(first).methods).toEqual(['totp', 'recovery_code', 'webauthn']);
    // Turning TOTP off leaves the passkey asking.
    const codes = resultOf<{ recovery_codes: string[] }>(
      await post(`/api/v1/users/${account.id}/mfa/recovery-codes/`, { password: PASSWORD }, account.token),
    ).recovery_codes;
    const off = await post(
      `/api/v1/users/${account.id}/mfa/totp/disable/`,
      { password: PASSWORD, code: codes[0] },
      account.token,
    );
    expect(off.statusCode).toBe(200);
    const again = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    expect(resultOf<{ methods: string[] }>(again).methods).toEqual(['webauthn']);
  });

  it('removes a passkey: it signs in nowhere, and the password alone works again', async () => {
    const { account, authenticator, passkeyId } = await withPasskey();
    const removed = await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${account.id}/passkeys/${passkeyId}/`,
      headers: authHeader(account.token),
    });
    expect(removed.json()).toEqual({ status_code: 200, message: 'passkey removed' });
    expect((await passwordless(authenticator.authenticate(await passwordlessOptions()))).statusCode).toBe(
      400,
    );
    const login = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    expect(login.json<{ message: string }>().message).toBe('you have successfully logged in');
    const types = (await eventsOf(account)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['passkey.removed', 'user.mfa.disabled']));
    for (const id of [passkeyId, 'abc', '0']) {
      const missing = await app.inject({
        method: 'DELETE',
        url: `/api/v1/users/${account.id}/passkeys/${id}/`,
        headers: authHeader(account.token),
      });
      expect(missing.json()).toEqual({ status_code: 404, message: 'passkey not found' });
    }
  });

  it("cannot remove another account's passkey", async () => {
    const { passkeyId } = await withPasskey();
    const other = await signupAccount(app);
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${other.id}/passkeys/${passkeyId}/`,
      headers: authHeader(other.token),
    });
    expect(res.statusCode).toBe(404);
  });

  it("answers a deactivated account's passkey with the seed's 404", async () => {
    const { account, authenticator } = await withPasskey();
    const off = await post(`/api/v1/users/${account.id}/deactivate/`, { password: PASSWORD }, account.token);
    expect(off.statusCode).toBe(200);
    const res = await passwordless(authenticator.authenticate(await passwordlessOptions()));
    expect(res.json()).toEqual({ status_code: 404, message: 'This account has been deactivated' });
  });

  it("the operator's mfa-reset removes the passkeys too", async () => {
    const { account, authenticator } = await withPasskey();
    const user = { id: account.id, email: account.email };
    expect(await resetSecondFactor(app.accounts, user, OPERATOR)).toBe(true);
    expect((await passwordless(authenticator.authenticate(await passwordlessOptions()))).statusCode).toBe(
      400,
    );
    const login = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
    expect(login.json<{ message: string }>().message).toBe('you have successfully logged in');
  });

  it('one response sent 10 times at once opens one session', async () => {
    const { authenticator } = await withPasskey();
    const response = authenticator.authenticate(await passwordlessOptions());
    const answers = await Promise.all(Array.from({ length: 10 }, () => passwordless(response)));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.statusCode === 400)).toHaveLength(9);
  });

  if (database.name === 'postgres')
    it('one response sent at once to two instances on one PostgreSQL opens one session', async () => {
      const second = await buildTestApp(url, { MFA_KEY: TEST_MFA_KEY }, { now: () => clock });
      try {
        const { authenticator } = await withPasskey();
        for (let round = 0; round < 5; round++) {
          // Options from one instance, the answer to both: the challenge is in the database, used once.
          const response = authenticator.authenticate(await passwordlessOptions());
          const both = await Promise.all(
            [app, second].map((instance) =>
              instance.inject({ method: 'POST', url: '/api/v1/users/login/passkey/', payload: { response } }),
            ),
          );
          expect(both.map((r) => r.statusCode).sort()).toEqual([200, 400]);
        }
      } finally {
        await second.close();
      }
    });

  // PostgreSQL only: SQLite runs one write at a time, so the interleaving cannot happen there.
  if (database.name === 'postgres')
    it('turning TOTP off while a passkey is being added leaves the second step on (forced interleaving)', async () => {
      const account = await signupAccount(app);
      const { recoveryCodes } = await enrolTotp(app, account, clock);
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        // A passkey being added: the user's row held, the passkey written, not yet committed.
        await other.query('begin');
        await other.query('select id from users where id = $1 for update', [account.id]);
        await other.query(
          `insert into passkeys (user_id, credential_id, public_key, counter, transports, name, created_at)
           values ($1, $2, 'key', 0, '', 'racing', $3)`,
          [account.id, `racing-${account.id}`, clock],
        );
        const disabling = post(
          `/api/v1/users/${account.id}/mfa/totp/disable/`,
          { password: PASSWORD, code: recoveryCodes[0] },
          account.token,
        );
        // The disable checked the password and now waits for the row.
        await untilBlockedBy(other);
        await other.query('commit');
        expect((await disabling).statusCode).toBe(200);
      } finally {
        await other.end();
      }
      const first = await post('/api/v1/users/login/', { email: account.email, password: PASSWORD });
      expect(resultOf<{ methods: string[] }>(first).methods).toEqual(['webauthn']);
    });

  it('a passkey removed between the signature check and the session opens nothing', async () => {
    const { account, authenticator, passkeyId } = await withPasskey();
    const passkeys = app.accounts.store.passkeys;
    const find = passkeys.findByCredentialId.bind(passkeys);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atCheck = new Promise<void>((resolve) => (reached = resolve));
    // Pause the login right after it read the passkey it will verify against.
    passkeys.findByCredentialId = async (id) => {
      const found = await find(id);
      reached();
      await held;
      return found;
    };
    try {
      const login = passwordless(authenticator.authenticate(await passwordlessOptions()));
      await atCheck;
      const removed = await app.inject({
        method: 'DELETE',
        url: `/api/v1/users/${account.id}/passkeys/${passkeyId}/`,
        headers: authHeader(account.token),
      });
      expect(removed.statusCode).toBe(200);
      release();
      expect((await login).statusCode).toBe(400);
    } finally {
      passkeys.findByCredentialId = find;
    }
    const sessions = resultOf<unknown[]>(
      await app.inject({
        method: 'GET',
        url: `/api/v1/users/${account.id}/sessions/`,
        headers: authHeader(account.token),
      }),
    );
    expect(sessions).toHaveLength(1); // the signup's only
  });

  it('answers every mangled ceremony response with a 400, never a 5xx', async () => {
    const { account, authenticator } = await withPasskey();
    const valid = authenticator.authenticate(await passwordlessOptions());
    const junk = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string()), fc.object());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'id',
          'rawId',
          'type',
          'clientDataJSON',
          'authenticatorData',
          'signature',
          'userHandle',
        ),
        junk,
        fc.constantFrom('login', 'register', 'mfa'),
        async (field, value, route) => {
          const response = structuredClone(valid) as Record<string, unknown> & {
            response: Record<string, unknown>;
          };
          if (field in response) response[field] = value;
          else response.response[field] = value;
          const res =
            route === 'login'
              ? await passwordless(response)
              : route === 'register'
                ? await post(`/api/v1/users/${account.id}/passkeys/`, { response }, account.token)
                : await post('/api/v1/users/login/mfa/', { mfa_token: 'ras_mfa_x', webauthn: response });
          expect(res.statusCode).toBe(400);
        },
      ),
      { numRuns: 150 },
    );
  });
});
