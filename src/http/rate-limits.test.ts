import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildTestApp,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  uniqueEmail,
} from '../../test/helpers.js';

const LIMITS = {
  RATE_LIMIT: 'on',
  RATE_LIMIT_SIGNUP_PER_HOUR: '3',
  RATE_LIMIT_LOGIN_PER_MINUTE: '4',
  RATE_LIMIT_GLOBAL_PER_MINUTE: '5',
};

const signup = (app: FastifyInstance, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/users/signup/',
    headers,
    payload: { email: uniqueEmail(), password: PASSWORD },
  });

describe('per-address rate limits', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', LIMITS);
  });
  afterAll(() => app.close());

  it('limits signups per address and answers 429 in the envelope with Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await signup(app)).statusCode).toBe(201);
    const res = await signup(app);
    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({ status_code: 429, message: 'too many requests, please try again later' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(3000);
  });

  it('limits login attempts per address, whatever the account', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(
        await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: uniqueEmail(), password: PASSWORD },
          remoteAddress: '198.51.100.1',
        }),
      );
    }
    expect(answers.map((r) => r.statusCode)).toEqual([400, 400, 400, 400, 429]);
  });

  it('limits other requests without a valid token, but never a request with one', async () => {
    const ip = { remoteAddress: '198.51.100.2' };
    const codes = [];
    for (let i = 0; i < 6; i++)
      codes.push(
        (await app.inject({ url: '/api/v1/users/1/', headers: { authorization: 'Token ras_bad' }, ...ip }))
          .statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('never limits requests carrying a valid token', async () => {
    const proxied = await buildTestApp('sqlite::memory:', { ...LIMITS, RATE_LIMIT_SIGNUP_PER_HOUR: '10' });
    try {
      const account = await signupAccount(proxied);
      for (let i = 0; i < 20; i++) {
        const res = await proxied.inject({
          url: `/api/v1/users/${account.id}/`,
          headers: { authorization: `Token ${account.token}` },
        });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await proxied.close();
    }
  });

  it('counts the address that TRUST_PROXY reads, and only then X-Forwarded-For', async () => {
    const direct = await buildTestApp('sqlite::memory:', LIMITS);
    const proxied = await buildTestApp('sqlite::memory:', { ...LIMITS, TRUST_PROXY: 'true' });
    try {
      const rotating = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i}` });
      const directCodes = [];
      const proxiedCodes = [];
      for (let i = 0; i < 4; i++) {
        directCodes.push((await signup(direct, rotating(i))).statusCode);
        proxiedCodes.push((await signup(proxied, rotating(i))).statusCode);
      }
      expect(directCodes).toEqual([201, 201, 201, 429]);
      expect(proxiedCodes).toEqual([201, 201, 201, 201]);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });

  it('turns off with RATE_LIMIT=off, and the login throttle stays', async () => {
    const open = await buildTestApp('sqlite::memory:', { ...LIMITS, RATE_LIMIT: 'off' });
    try {
      for (let i = 0; i < 5; i++) expect((await signup(open)).statusCode).toBe(201);
      const account = await signupAccount(open);
      const login = (password: string) =>
        open.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: account.email, password },
        });
      for (let i = 0; i < 5; i++) expect((await login('wrong password!')).statusCode).toBe(400);
      expect((await login(PASSWORD)).statusCode).toBe(429);
    } finally {
      await open.close();
    }
  });
});

const redisUrl = inject('redisUrl');
describe.runIf(redisUrl)('per-address rate limits shared through Redis', () => {
  it('counts signups across two instances', async () => {
    const env = { ...LIMITS, REDIS_URL: redisUrl!, RATE_LIMIT_SIGNUP_PER_HOUR: '2' };
    const a = await buildTestApp('sqlite::memory:', env);
    const b = await buildTestApp('sqlite::memory:', env);
    try {
      const from = { remoteAddress: `198.51.100.${Math.floor(Math.random() * 200) + 20}` };
      const codes = [];
      for (const app of [a, b, a]) {
        codes.push(
          (
            await app.inject({
              method: 'POST',
              url: '/api/v1/users/signup/',
              payload: { email: uniqueEmail(), password: PASSWORD },
              ...from,
            })
          ).statusCode,
        );
      }
      expect(codes).toEqual([201, 201, 429]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('per-address limits on the routes that check a password, and IPv6 clients', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { ...LIMITS, TRUST_PROXY: 'true' });
  });
  afterAll(() => app.close());

  it('limits password changes per address even with a valid token', async () => {
    const account = await signupAccount(app, uniqueEmail(), { 'x-forwarded-for': '198.51.100.20' });
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/users/${account.id}/password/`,
        headers: { authorization: `Token ${account.token}`, 'x-forwarded-for': `192.0.2.${i}` },
        payload: { current_password: 'wrong password', new_password: 'a brand new passphrase' },
      });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([400, 400, 400, 400, 400]);
    const sameAddress = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/users/${account.id}/deactivate/`,
        headers: { authorization: `Token ${account.token}`, 'x-forwarded-for': '192.0.2.200' },
        payload: { password: `wrong password ${i}` },
      });
      sameAddress.push(res.statusCode);
    }
    expect(sameAddress).toEqual([400, 400, 400, 400, 429]);
  });

  it('counts an IPv6 client by its /64: another address of the same /64 shares the limit, another /64 does not', async () => {
    const login = (ip: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: uniqueEmail(), password: PASSWORD },
        headers: { 'x-forwarded-for': ip },
      });
    for (let i = 0; i < 4; i++) expect((await login(`2001:db8:1:2::${i + 1}`)).statusCode).toBe(400);
    expect((await login('2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode).toBe(429);
    expect((await login('2001:0db8:0001:0002:0:0:0:abcd')).statusCode).toBe(429);
    expect((await login('2001:db8:1:3::1')).statusCode).toBe(400);
  });
});

describeEachDatabase('client addresses that are not addresses', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url(), { TRUST_PROXY: 'true' });
  });
  afterAll(() => app.close());

  it('stores an X-Forwarded-For entry that is not an address (80 characters) as no address, never a 500', async () => {
    const forged = 'x'.repeat(80);
    const res = await signup(app, { 'x-forwarded-for': forged });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          headers: { 'x-forwarded-for': forged },
          payload: { email: uniqueEmail(), password: PASSWORD },
        })
      ).statusCode,
    ).toBe(400);
    expect(res.statusCode).toBe(201);
    const { id, auth_token } = res.json<{ result: { id: number; auth_token: string } }>().result;
    const sessions = await app.inject({
      url: `/api/v1/users/${id}/sessions/`,
      headers: { authorization: `Token ${auth_token}`, 'x-forwarded-for': forged },
    });
    expect(sessions.json<{ result: { ip: string | null }[] }>().result[0]!.ip).toBeNull();
  });
});
