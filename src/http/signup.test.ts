import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase, buildTestApp, PASSWORD, uniqueEmail } from '../../test/helpers.js';

const SIGNUP = '/api/v1/users/signup/';

describeEachDatabase('POST /api/v1/users/signup/', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url());
  });
  afterAll(() => app.close());

  const signup = (payload: unknown, url = SIGNUP) =>
    app.inject({ method: 'POST', url, payload: payload as object });

  it('creates the account and answers the seed body byte for byte, with the first session token', async () => {
    const email = uniqueEmail();
    const res = await signup({ email, password: PASSWORD });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const body = res.json<{ result: { id: number; auth_token: string } }>();
    expect(res.body).toBe(
      `{"status_code":201,"message":"you have successfully signed up on Ras","result":{"id":${body.result.id},"email":"${email}","auth_token":"${body.result.auth_token}"}}`,
    );
    expect(body.result.auth_token).toMatch(/^ras_[A-Za-z0-9_-]{43}$/);
    const me = await app.inject({
      url: `/api/v1/users/${body.result.id}/`,
      headers: { authorization: `Token ${body.result.auth_token}` },
    });
    expect(me.statusCode).toBe(200);
  });

  it('answers without the trailing slash too', async () => {
    const res = await signup({ email: uniqueEmail(), password: PASSWORD }, '/api/v1/users/signup');
    expect(res.statusCode).toBe(201);
  });

  it('stores the email trimmed and lower-cased', async () => {
    const email = uniqueEmail('MiXeD').toUpperCase();
    const res = await signup({ email: `  ${email}  `, password: PASSWORD });
    expect(res.json<{ result: { email: string } }>().result.email).toBe(email.toLowerCase());
  });

  it('accepts a form-encoded body as DRF did', async () => {
    const email = uniqueEmail();
    const res = await app.inject({
      method: 'POST',
      url: SIGNUP,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password: PASSWORD }).toString(),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json<{ result: { email: string } }>().result.email).toBe(email);
  });

  it.each([
    ['not an email', 'plainaddress'],
    ['empty', ''],
    ['two @', 'a@b@example.com'],
    ['a space', 'a b@example.com'],
    ['a NUL', 'a\u0000b@example.com'],
    ['a CR LF', 'a\r\nb@example.com'],
    ['a zero-width space', 'a\u200bb@example.com'],
    ['a bidi override', '\u202eab@example.com'],
    ['a number', 12345],
    ['null', null],
    ['an object', { email: 'a@example.com' }],
    ['an array', ['a@example.com']],
    ['over 254 characters', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`],
  ])('refuses an invalid email (%s) with the seed 401', async (_label, email) => {
    const res = await signup({ email, password: PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe('{"status_code":401,"message":"please enter a valid email address"}');
  });

  it('refuses a taken email, compared trimmed and case-insensitively', async () => {
    const email = uniqueEmail();
    expect((await signup({ email, password: PASSWORD })).statusCode).toBe(201);
    for (const variant of [email, ` ${email.toUpperCase()} `]) {
      const res = await signup({ email: variant, password: 'another fine password' });
      expect(res.statusCode).toBe(401);
      expect(res.body).toBe(
        '{"status_code":401,"message":"email already exist, please use different email"}',
      );
    }
  });

  it.each([
    ['not a string', 12345678, 'password must be a string'],
    ['too short', 'short12', 'password must be at least 8 characters'],
    ['too long', 'x'.repeat(1025), 'password must be at most 1024 characters'],
    ['common', 'password123', 'this password is too common, please choose a different one'],
    ['common, other case', 'PassWord123', 'this password is too common, please choose a different one'],
  ])('refuses a password that is %s with a 400 saying why', async (_label, password, message) => {
    const res = await signup({ email: uniqueEmail(), password });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ status_code: 400, message });
  });

  it('accepts 8 and 1024 characters, counted in code points, with no composition rules', async () => {
    expect((await signup({ email: uniqueEmail(), password: 'zxqvbnmk' })).statusCode).toBe(201);
    expect((await signup({ email: uniqueEmail(), password: '🔑'.repeat(1024) })).statusCode).toBe(201);
  });

  it('refuses a 60,000-character password before any hashing', async () => {
    const hash = vi.spyOn(app.accounts.passwords, 'hash');
    try {
      const res = await signup({ email: uniqueEmail(), password: 'a'.repeat(60_000) });
      expect(res.statusCode).toBe(400);
      expect(hash).not.toHaveBeenCalled();
    } finally {
      hash.mockRestore();
    }
  });

  it.each([
    [{ password: PASSWORD }, 'email is required'],
    [{ email: 'a@example.com' }, 'password is required'],
  ])('answers 400 in the envelope for a missing field', async (payload, message) => {
    const res = await signup(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ status_code: 400, message });
  });

  it('ignores mass-assignment fields (id, is_active, auth_token)', async () => {
    const res = await signup({
      email: uniqueEmail(),
      password: PASSWORD,
      id: 999999,
      is_active: false,
      auth_token: 'x',
    });
    expect(res.statusCode).toBe(201);
    const { result } = res.json<{ result: { id: number; auth_token: string } }>();
    expect(result.id).not.toBe(999999);
    expect(result.auth_token).not.toBe('x');
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: res.json<{ result: { email: string } }>().result.email, password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
  });

  it('creates exactly one account from twenty concurrent signups with one email', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signup({ email: i % 2 ? email.toUpperCase() : email, password: PASSWORD }),
      ),
    );
    const codes = answers.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 401)).toHaveLength(19);
    for (const r of answers.filter((a) => a.statusCode === 401)) {
      expect(r.json()).toEqual({
        status_code: 401,
        message: 'email already exist, please use different email',
      });
    }
  });
});
