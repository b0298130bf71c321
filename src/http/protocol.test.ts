import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, describeEachDatabase, PASSWORD, uniqueEmail } from '../../test/helpers.js';

describeEachDatabase('HTTP protocol: envelopes, content types, methods, docs', (database) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url(), { BODY_LIMIT: '4096' });
  });
  afterAll(() => app.close());

  it('answers an unknown route with a 404 envelope', async () => {
    const res = await app.inject({ url: '/api/v1/nothing/here/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ status_code: 404, message: 'route not found' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['PUT', '/api/v1/users/1/', 'GET, HEAD'],
    ['PATCH', '/api/v1/users/1', 'GET, HEAD'],
    ['DELETE', '/api/v1/users/1/', 'GET, HEAD'],
    ['GET', '/api/v1/users/signup/', 'POST'],
    ['DELETE', '/api/v1/users/login/', 'POST'],
    ['GET', '/api/v1/users/1/logout/', 'POST'],
  ] as const)('answers %s %s with 405 and Allow', async (method, url, allow) => {
    const res = await app.inject({ method, url });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json()).toEqual({ status_code: 405, message: 'method not allowed' });
  });

  it.each(['text/plain', 'application/xml', 'multipart/form-data; boundary=x'])(
    'answers a %s body with 415',
    async (type) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        headers: { 'content-type': type },
        payload: 'email=a',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json<{ status_code: number }>().status_code).toBe(415);
    },
  );

  it.each(['{"email":', '{email: 1}', 'null', '[]', '"string"', '42'])(
    'answers the JSON body %j with a 400 envelope',
    async (payload) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ status_code: number }>().status_code).toBe(400);
    },
  );

  it('answers an empty JSON body with a 400 envelope', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
  });

  it.each(['__proto__', 'constructor'])(
    'refuses a body with a %s key (prototype poisoning) with 400',
    async (key) => {
      const email = uniqueEmail();
      const poison = key === '__proto__' ? '{"is_active":0}' : '{"prototype":{"is_active":0}}';
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        headers: { 'content-type': 'application/json' },
        payload: `{"email":"${email}","password":"${PASSWORD}","${key}":${poison}}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ status_code: 400, message: 'request body is not valid JSON' });
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: PASSWORD },
      });
      expect(login.statusCode).toBe(400);
    },
  );

  it('answers a body over BODY_LIMIT with 413 in the envelope', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: { email: uniqueEmail(), password: 'x'.repeat(5000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ status_code: 413, message: 'request body is too large' });
  });

  it('answers /healthz 200 while the database answers', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('serves the OpenAPI 3.1 document of every route, from the validating schemas', async () => {
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/users/signup/',
        '/api/v1/users/login/',
        '/api/v1/users/{userid}/',
        '/api/v1/users/{userid}/logout/',
        '/api/v1/users/{userid}/sessions/',
        '/api/v1/users/{userid}/sessions/{sessionid}/',
        '/api/v1/users/{userid}/logout/all/',
        '/api/v1/users/{userid}/password/',
        '/api/v1/users/{userid}/deactivate/',
        '/healthz',
      ]),
    );
    expect(Object.keys(doc.paths['/api/v1/users/signup/'] ?? {})).toEqual(['post']);
  });

  it('serves the docs page', async () => {
    const res = await app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('sends no CORS headers by default', async () => {
    const res = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS_ORIGINS', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => app.close());

  it('allows the configured origin with the Authorization header, and no other origin', async () => {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/users/1/',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    const foreign = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });
});

it('answers GET / with where the documentation is', async () => {
  const app = await buildTestApp('sqlite::memory:');
  try {
    const res = await app.inject({ url: '/' });
    expect(res.json()).toMatchObject({
      docs: '/docs',
      openapi: '/openapi.json',
      version: expect.any(String),
    });
  } finally {
    await app.close();
  }
});

it('describes what a client must send: operation ids, string fields, forms, Retry-After, a bearer scheme', async () => {
  const app = await buildTestApp('sqlite::memory:');
  try {
    const doc = (await app.inject({ url: '/openapi.json' })).json<{
      info: { version: string; license: { name: string } };
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    expect(doc.info.license.name).toBe('MIT');
    expect(doc.components.securitySchemes.token).toMatchObject({ type: 'http', scheme: 'bearer' });
    const signup = doc.paths['/api/v1/users/signup/']!.post!;
    expect(signup.operationId).toBe('postUsersSignup');
    expect(signup.security).toEqual([]);
    const body = signup.requestBody as { content: Record<string, { schema: { $ref: string } }> };
    expect(body.content['application/json']!.schema.$ref).toBe('#/components/schemas/Credentials');
    expect(body.content['application/x-www-form-urlencoded']).toBeDefined();
    const responses = doc.paths['/api/v1/users/login/']!.post!.responses as Record<
      string,
      { headers?: object }
    >;
    expect(responses['429']!.headers).toHaveProperty('Retry-After');
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(JSON.stringify(doc)).not.toMatch(/\bseed\b/i);
  } finally {
    await app.close();
  }
});
