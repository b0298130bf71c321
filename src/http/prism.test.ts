/**
 * The OpenAPI document describes what the seed's clients really send (issue 28): every case of the seed goes
 * through Prism's validating proxy (`prism proxy --errors`), built from the document Ras serves, and comes out
 * with the seed's status and no violation. With only the bearer scheme, Prism refused every `Token` request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, PASSWORD, uniqueEmail } from '../../test/helpers.js';
import { freePort, ROOT, untilOutput } from '../../test/e2e/processes.js';

describe('the seed through a validating proxy built from the document (Prism)', () => {
  let app: FastifyInstance;
  let prism: ChildProcess;
  let proxy: string;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const upstream = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const document = join(mkdtempSync(join(tmpdir(), 'ras-prism-')), 'openapi.json');
    writeFileSync(document, (await app.inject({ url: '/openapi.json' })).body);
    const port = await freePort();
    prism = spawn(
      join(ROOT, 'node_modules/.bin/prism'),
      ['proxy', document, upstream, '--errors', '--host', '127.0.0.1', '--port', String(port)],
      { env: { ...process.env, SCARF_ANALYTICS: 'false' } },
    );
    await untilOutput(prism, 'Prism is listening');
    proxy = `http://127.0.0.1:${port}`;
  }, 60_000);
  afterAll(async () => {
    prism?.kill();
    await app?.close();
  });

  async function send(method: string, path: string, init: { body?: object; token?: string } = {}) {
    const res = await fetch(proxy + path, {
      method,
      headers: {
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Token ${init.token}` } : {}),
      },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
    return {
      status: res.status,
      violations: res.headers.get('sl-violations'),
      body: (await res.json()) as object,
    };
  }

  it('passes all ten of the seed’s cases, Token scheme included, with no violation', async () => {
    const email = uniqueEmail('prism');
    const deactivated = uniqueEmail('prism-deactivated');
    const signup = await send('POST', '/api/v1/users/signup/', { body: { email, password: PASSWORD } });
    const { id, auth_token: token } = (signup.body as { result: { id: number; auth_token: string } }).result;
    const other = await send('POST', '/api/v1/users/signup/', {
      body: { email: deactivated, password: PASSWORD },
    });
    const otherResult = (other.body as { result: { id: number; auth_token: string } }).result;
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${otherResult.id}/deactivate/`,
      headers: { authorization: `Token ${otherResult.auth_token}` },
      payload: { password: PASSWORD },
    });
    const login = await send('POST', '/api/v1/users/login/', { body: { email, password: PASSWORD } });
    const cases = [
      ['signup', signup, 201],
      [
        'signup, invalid email',
        await send('POST', '/api/v1/users/signup/', { body: { email: 'nope', password: PASSWORD } }),
        401,
      ],
      [
        'signup, email taken',
        await send('POST', '/api/v1/users/signup/', { body: { email, password: PASSWORD } }),
        401,
      ],
      ['login', login, 200],
      [
        'login, wrong password',
        await send('POST', '/api/v1/users/login/', { body: { email, password: 'wrong password' } }),
        400,
      ],
      [
        'login, deactivated',
        await send('POST', '/api/v1/users/login/', { body: { email: deactivated, password: PASSWORD } }),
        404,
      ],
      ['retrieve with Token', await send('GET', `/api/v1/users/${id}/`, { token }), 200],
      ['retrieve without credentials', await send('GET', `/api/v1/users/${id}/`), 401],
      ['logout with Token', await send('POST', `/api/v1/users/${id}/logout/`, { token }), 200],
      ['retrieve after logout', await send('GET', `/api/v1/users/${id}/`, { token }), 401],
    ] as const;
    const seen = cases.map(([name, res]) => ({ name, status: res.status, violations: res.violations }));
    expect(seen).toEqual(cases.map(([name, , status]) => ({ name, status, violations: null })));
  }, 60_000);
});
