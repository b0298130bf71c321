import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  uniqueEmail,
} from '../../test/helpers.js';

const SIGNUP = '/api/v1/users/signup/';
const LOGIN = '/api/v1/users/login/';

describeEachDatabase('hostile input', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url());
  });
  afterAll(() => app.close());

  const postRaw = (url: string, payload: string) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

  it('answers deeply nested JSON with a 4xx, never a 500', async () => {
    const depth = 100_000;
    for (const payload of [
      `{"email":${'['.repeat(depth)}${']'.repeat(depth)},"password":"${PASSWORD}"}`,
      `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    ]) {
      const res = await postRaw(SIGNUP, payload);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });

  it('takes the last of duplicate keys, as JSON.parse does, and still validates it', async () => {
    const email = uniqueEmail();
    const res = await postRaw(
      SIGNUP,
      `{"email":"not-an-email","email":"${email}","password":"x","password":"${PASSWORD}"}`,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json<{ result: { email: string } }>().result.email).toBe(email);
  });

  it.each([
    "' OR '1'='1",
    "admin'--@example.com",
    'a@example.com"; DROP TABLE users; --',
    "x@example.com' UNION SELECT token_hash FROM sessions --",
  ])('treats the SQL-looking %j as data', async (value) => {
    // admin'--@example.com is a valid address (the WHATWG grammar allows '), so it may sign up: as data.
    const signup = await app.inject({
      method: 'POST',
      url: SIGNUP,
      payload: { email: value, password: PASSWORD },
    });
    expect([201, 401]).toContain(signup.statusCode);
    const login = await app.inject({
      method: 'POST',
      url: LOGIN,
      payload: { email: value, password: value },
    });
    expect(login.statusCode).toBe(400);
    if (signup.statusCode === 201) {
      const again = await app.inject({
        method: 'POST',
        url: LOGIN,
        payload: { email: value, password: PASSWORD },
      });
      expect(again.json<{ result: { email: string } }>().result.email).toBe(value.toLowerCase());
    }
    const password = await app.inject({
      method: 'POST',
      url: SIGNUP,
      payload: { email: uniqueEmail(), password: `${value} padding` },
    });
    expect(password.statusCode).toBe(201);
  });

  it.each([
    'Token',
    'Token ',
    'Token  \t ',
    'Token a b c',
    'Token \u0000',
    'Token ras_\u202e',
    `Token ${'x'.repeat(8000)}`,
    'Bearer null',
    'Token undefined',
    'Token [object Object]',
    "Token ' OR 1=1 --",
  ])('answers the Authorization value %j with a 401', async (header) => {
    const account = await signupAccount(app);
    const res = await app.inject({ url: `/api/v1/users/${account.id}/`, headers: { authorization: header } });
    expect(res.statusCode).toBe(401);
  });

  it('answers 405 for PUT, PATCH and DELETE on the seed routes', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      for (const url of [SIGNUP, LOGIN, '/api/v1/users/1/', '/api/v1/users/1/logout/']) {
        expect((await app.inject({ method, url })).statusCode).toBe(405);
      }
    }
  });

  it('ignores a token in the body of a logout', async () => {
    const account = await signupAccount(app);
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/logout/`,
      payload: { auth_token: account.token, token: account.token },
    });
    expect(res.statusCode).toBe(401);
    expect(
      (await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(account.token) }))
        .statusCode,
    ).toBe(200);
  });

  it('answers a form body with repeated fields as an invalid email', async () => {
    const res = await app.inject({
      method: 'POST',
      url: SIGNUP,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=a%40example.com&email=b%40example.com&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('hostile connections (real socket)', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:');
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  function rawRequest(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.write(text);
    });
  }

  it('answers headers over 16 KiB with 431 in the envelope', async () => {
    const answer = await rawRequest(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('{"status_code":431,"message":"request header fields too large"}');
  });

  it('refuses a request with both Content-Length and Transfer-Encoding (request smuggling)', async () => {
    const body = '{"email":"a@example.com","password":"x"}';
    const answer = await rawRequest(
      `POST /api/v1/users/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers a malformed request line with 400 in the envelope', async () => {
    const answer = await rawRequest('NONSENSE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"status_code":400');
  });

  it('sets explicit timeouts so slow clients cannot pin sockets', () => {
    expect(app.server.requestTimeout).toBe(10_000);
    expect(app.server.keepAliveTimeout).toBe(5_000);
    expect(app.server.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(app.initialConfig.connectionTimeout).toBe(5_000);
  });

  it('answers a 1 MiB+ body with 413, which reaches the client', async () => {
    const res = await fetch(`http://127.0.0.1:${port}${SIGNUP}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(5 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ status_code: 413, message: 'request body is too large' });
  });
});
