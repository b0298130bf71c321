import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, PASSWORD, signupAccount, uniqueEmail } from '../../test/helpers.js';
import { PASSWORD_MESSAGES } from '../accounts/password-policy.js';
import { MESSAGES, SEED } from './messages.js';

type Json = Record<string, unknown>;
interface Media {
  schema: Json;
  examples?: Record<string, { summary: string; value: unknown }>;
}
interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

describe('the OpenAPI document', () => {
  let app: FastifyInstance;
  let doc: Document;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { BODY_LIMIT: '4096' });
    doc = (await app.inject({ url: '/openapi.json' })).json<Document>();
  });
  afterAll(() => app.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
  const examplesAt = (path: string, method: string, status: number) =>
    Object.values(
      doc.paths[path]![method]!.responses[String(status)]!.content!['application/json']!.examples!,
    ).map((e) => e.value);

  it('names its schemas and describes the request bodies by reference, strings only, nothing extra', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Credentials',
        'User',
        'SignedIn',
        'Session',
        'SessionPage',
        'Envelope',
        'Error',
      ]),
    );
    const body = doc.paths['/api/v1/users/signup/']!.post!.requestBody!.content;
    expect(body['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Credentials' });
    expect(body['application/x-www-form-urlencoded']!.schema).toEqual({
      $ref: '#/components/schemas/Credentials',
    });
    expect(doc.components.schemas.Credentials).toMatchObject({
      additionalProperties: false,
      required: ['email', 'password'],
      properties: { email: { type: 'string' }, password: { type: 'string' } },
    });
    expect(doc.components.schemas.Envelope).toMatchObject({ required: ['status_code', 'message'] });
  });

  it('lists 400, 413 and 415 wherever a body is read, and 503 on every operation', () => {
    for (const { path, method, op } of operations()) {
      expect(Object.keys(op.responses), `${method} ${path}`).toContain('503');
      if (op.requestBody)
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(['400', '413', '415']),
        );
    }
  });

  it('gives only messages Ras really has as examples', () => {
    const known = new Set<string>([
      ...Object.values(SEED),
      ...Object.values(MESSAGES),
      ...Object.values(PASSWORD_MESSAGES),
    ]);
    let count = 0;
    for (const { op } of operations()) {
      for (const response of Object.values(op.responses)) {
        for (const { value } of Object.values(response.content?.['application/json']?.examples ?? {})) {
          const body = value as { message?: string; detail?: string };
          const text = body.message ?? body.detail;
          if (text === undefined) continue;
          count++;
          expect(known.has(text) || /^\w+ is required$/.test(text), text).toBe(true);
        }
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  it('shows as examples the very answers Ras gives', async () => {
    const email = uniqueEmail();
    await signupAccount(app, email);
    const answers: [string, string, number, () => Promise<unknown>][] = [
      [
        '/api/v1/users/login/',
        'post',
        400,
        () => post('/api/v1/users/login/', { email, password: 'wrong password!' }),
      ],
      [
        '/api/v1/users/signup/',
        'post',
        401,
        () => post('/api/v1/users/signup/', { email, password: PASSWORD }),
      ],
      [
        '/api/v1/users/signup/',
        'post',
        400,
        () => post('/api/v1/users/signup/', { email: uniqueEmail(), password: 'short' }),
      ],
      ['/api/v1/users/signup/', 'post', 400, () => post('/api/v1/users/signup/', { password: PASSWORD })],
      [
        '/api/v1/users/login/',
        'post',
        413,
        () => post('/api/v1/users/login/', { email, password: 'x'.repeat(5000) }),
      ],
      [
        '/api/v1/users/{userid}/',
        'get',
        401,
        () => get('/api/v1/users/1/', { authorization: 'Token ras_nothing' }),
      ],
      ['/api/v1/users/{userid}/', 'get', 401, () => get('/api/v1/users/1/', {})],
    ];
    for (const [path, method, status, send] of answers)
      expect(examplesAt(path, method, status), `${method} ${path} ${status}`).toContainEqual(await send());

    const loginWith = async (contentType: string, payload: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          headers: { 'content-type': contentType },
          payload,
        })
      ).json<unknown>();
    expect(examplesAt('/api/v1/users/login/', 'post', 415)).toContainEqual(
      await loginWith('text/plain', 'hello'),
    );
    expect(examplesAt('/api/v1/users/login/', 'post', 400)).toContainEqual(
      await loginWith('application/json', '{'),
    );
  });

  it('has one URL: the docs page reads /openapi.json', async () => {
    const json = await app.inject({ url: '/docs/json' });
    expect(json.statusCode).toBe(308);
    expect(json.headers.location).toBe('/openapi.json');
    expect((await app.inject({ url: '/docs/yaml' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/docs/' })).statusCode).toBe(200);
  });

  it("is the README's reference: the table of operations lists each, with its summary and its auth", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = readme
      .split('\n')
      .map((line) =>
        /^\| (GET|POST|DELETE|PUT|PATCH) +\| `([^`]+)` +\| (.+?) +\| (none|token) +\|$/.exec(line),
      )
      .filter((match) => match !== null)
      .map(([, method, path, summary, auth]) => ({ method, path, summary, auth }));
    const documented = operations().map(({ path, method, op }) => ({
      method: method.toUpperCase(),
      path,
      summary: (op as { summary?: string }).summary,
      auth: (op as { security?: unknown[] }).security?.length ? 'token' : 'none',
    }));
    expect(rows).toEqual(documented);
  });

  async function post(url: string, payload: Json) {
    return (await app.inject({ method: 'POST', url, payload })).json<unknown>();
  }
  async function get(url: string, headers: Record<string, string>) {
    return (await app.inject({ url, headers })).json<unknown>();
  }
});

describe("the document's server", () => {
  const serversOf = async (env: Record<string, string>) => {
    const app = await buildTestApp('sqlite::memory:', env);
    try {
      return (await app.inject({ url: '/openapi.json' })).json<{ servers: { url: string }[] }>().servers;
    } finally {
      await app.close();
    }
  };

  it('is relative by default: "Try it out" calls the origin the docs page came from, on any port or proxy', async () => {
    const [server] = await serversOf({});
    expect(server!.url).toBe('/');
    // How Swagger UI resolves a relative server: against the address of the page it runs in.
    for (const page of ['http://127.0.0.1:4321/docs', 'https://accounts.example.com/auth/docs'])
      expect(new URL(server!.url, page).origin).toBe(new URL(page).origin);
  });

  it('is PUBLIC_URL when set; a PUBLIC_URL that is no http(s) URL is a configuration error', async () => {
    expect(await serversOf({ PUBLIC_URL: 'https://accounts.example.com/' })).toEqual([
      { url: 'https://accounts.example.com', description: 'Ras (PUBLIC_URL)' },
    ]);
    expect(() => buildTestApp('sqlite::memory:', { PUBLIC_URL: 'accounts.example.com' })).toThrow(
      /PUBLIC_URL/,
    );
  });
});
