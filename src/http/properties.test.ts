import fc from 'fast-check';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  signupAccount,
  TEST_MFA_KEY,
  type TestAccount,
} from '../../test/helpers.js';

const ROUTES: [HTTPMethods, (id: string) => string][] = [
  ['POST', () => '/api/v1/users/signup/'],
  ['POST', () => '/api/v1/users/login/'],
  ['GET', (id) => `/api/v1/users/${id}/`],
  ['POST', (id) => `/api/v1/users/${id}/logout/`],
  ['GET', (id) => `/api/v1/users/${id}/sessions/`],
  ['GET', (id) => `/api/v1/users/${id}/events/`],
  ['POST', () => '/api/v1/users/login/mfa/'],
  ['POST', (id) => `/api/v1/users/${id}/mfa/totp/`],
  ['POST', (id) => `/api/v1/users/${id}/mfa/totp/confirm/`],
  ['GET', (id) => `/api/v1/users/${id}/mfa/`],
  ['POST', (id) => `/api/v1/users/${id}/mfa/recovery-codes/`],
  ['POST', (id) => `/api/v1/users/${id}/mfa/totp/disable/`],
  ['POST', () => '/api/v1/users/login/mfa/options/'],
  ['POST', () => '/api/v1/users/login/passkey/options/'],
  ['POST', () => '/api/v1/users/login/passkey/'],
  ['POST', (id) => `/api/v1/users/${id}/passkeys/options/`],
  ['POST', (id) => `/api/v1/users/${id}/passkeys/`],
  ['DELETE', (id) => `/api/v1/users/${id}/passkeys/${id}/`],
  ['DELETE', (id) => `/api/v1/users/${id}/sessions/${id}/`],
  ['POST', (id) => `/api/v1/users/${id}/logout/all/`],
  ['POST', (id) => `/api/v1/users/${id}/password/`],
  ['POST', (id) => `/api/v1/users/${id}/deactivate/`],
  ['POST', () => '/api/v1/users/password/reset/'],
  ['POST', () => '/api/v1/users/password/reset/confirm/'],
  ['POST', () => '/api/v1/users/email/verify/'],
  ['POST', (id) => `/api/v1/users/${id}/email/verify/resend/`],
  ['GET', (id) => `/api/v1/users/${id}/account/`],
  ['POST', (id) => `/api/v1/users/${id}/email/`],
  ['POST', (id) => `/api/v1/users/${id}/delete/`],
];

/** Any answer Ras gives: a status below 500, and a JSON body in one of the contract's shapes. */
function expectContractAnswer(res: {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}): void {
  expect(res.statusCode).toBeLessThan(500);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(typeof body).toBe('object');
}

describe('no input yields a 5xx or a hang (fast-check)', () => {
  let app: FastifyInstance;
  let account: TestAccount;
  beforeAll(async () => {
    // Mail to the log (silent here), so the recovery routes answer as in production instead of 503.
    app = await buildTestApp('sqlite::memory:', { SMTP_URL: 'log:', MFA_KEY: TEST_MFA_KEY });
    account = await signupAccount(app);
  });
  afterAll(() => app.close());

  const ids = () =>
    fc.oneof(
      fc.constant(''),
      fc.nat().map(String),
      fc.integer().map(String),
      fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
      fc.constant('99999999999999999999999999'),
    );
  const route = () => fc.constantFrom(...ROUTES);

  it('random JSON bodies on every route', async () => {
    await fc.assert(
      fc.asyncProperty(
        route(),
        fc.jsonValue({ maxDepth: 4 }),
        fc.boolean(),
        async ([method, url], body, withToken) => {
          const res = await app.inject({
            method,
            url: url(String(account.id)),
            headers: { 'content-type': 'application/json', ...(withToken ? authHeader(account.token) : {}) },
            payload: JSON.stringify(body),
          });
          expectContractAnswer(res);
        },
      ),
      { numRuns: 300 },
    );
    // The property must not have logged the account out everywhere or deactivated it by chance…
    // …and if it did, that is a legitimate answer: only the absence of 5xx is the property.
  });

  it('random objects with the credential fields', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.string()),
      fc.object(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/v1/users/signup/', '/api/v1/users/login/'),
        fc.record({ email: value, password: value }, { requiredKeys: [] }),
        async (url, payload) => {
          expectContractAnswer(await app.inject({ method: 'POST', url, payload }));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random ids, paths and Authorization headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        route(),
        ids(),
        fc.option(fc.string({ maxLength: 200 })),
        async ([method, url], id, authorization) => {
          const headers: Record<string, string> = {};
          if (authorization !== null)
            headers.authorization = [...authorization].filter((c) => !'\r\n\u0000'.includes(c)).join('');
          expectContractAnswer(await app.inject({ method, url: url(id), headers }));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random raw bodies and content types', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'application/json',
          'application/x-www-form-urlencoded',
          'text/plain',
          'application/json; charset=latin1',
          'application/xml',
        ),
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        async (type, payload) => {
          const res = await app.inject({
            method: 'POST',
            url: '/api/v1/users/login/',
            headers: { 'content-type': type },
            payload,
          });
          expectContractAnswer(res);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random paths under /api', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<HTTPMethods>('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.webPath(),
        async (method, path) => {
          expectContractAnswer(await app.inject({ method, url: `/api/v1/users${path}` }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
