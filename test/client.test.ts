import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRasClient } from '@ras/client';
import { buildTestApp, PASSWORD, uniqueEmail } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = join(ROOT, 'packages/client');

/**
 * `@ras/client` as a client installs it (the built package, through the workspace link), against a real
 * server; its types checked against the document the server serves, so a route change that forgets the client
 * fails here.
 */
describe('@ras/client, the typed client', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:');
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('signs up, logs in, reads the user and its sessions, logs out, against a real server; the token handled for the caller', async () => {
    const email = uniqueEmail('client');
    const ras = createRasClient(baseUrl);
    const signup = await ras.api.POST('/api/v1/users/signup/', { body: { email, password: PASSWORD } });
    expect(signup.response.status).toBe(201);
    const login = await ras.api.POST('/api/v1/users/login/', { body: { email, password: PASSWORD } });
    const result = login.data!.result;
    // An account with a second factor gets `mfa_token` instead; this one has none.
    if (!('auth_token' in result)) throw new Error('expected a session');
    const id = String(result.id);
    expect(ras.token).toBe(result.auth_token);
    const me = await ras.api.GET('/api/v1/users/{userid}/', { params: { path: { userid: id } } });
    expect(me.data).toEqual({ id: Number(id), email, auth_token: ras.token });
    const sessions = await ras.api.GET('/api/v1/users/{userid}/sessions/', {
      params: { path: { userid: id } },
    });
    expect(sessions.data!.result).toHaveLength(2);
    expect(sessions.data!.result.filter((s) => s.current)).toHaveLength(1);
    const logout = await ras.api.POST('/api/v1/users/{userid}/logout/', { params: { path: { userid: id } } });
    expect(logout.response.status).toBe(200);
    expect(ras.token).toBeUndefined();
    const after = await ras.api.GET('/api/v1/users/{userid}/', { params: { path: { userid: id } } });
    expect(after.response.status).toBe(401);
  });

  it('was generated from the document the server serves (regenerate with npm run client:types)', async () => {
    const document = (await app.inject({ url: '/openapi.json' })).json<Record<string, unknown>>();
    const generated = COMMENT_HEADER + astToString(await openapiTS(document as never));
    expect(readFileSync(join(CLIENT, 'src/api.ts'), 'utf8')).toBe(generated);
  });

  it('refuses, at compile time, a body of the wrong type', async () => {
    const dir = mkdtempSync(join(ROOT, 'test/.tsc-'));
    const file = (name: string, email: string) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        `import { createRasClient } from '@ras/client';\n` +
          `await createRasClient('http://x').api.POST('/api/v1/users/login/', { body: { email: ${email}, password: 'p' } });\n`,
      );
      return path;
    };
    const tsc = (path: string) =>
      promisify(execFile)(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          path,
        ],
        { cwd: ROOT },
      ).then(
        () => ({ code: 0, out: '' }),
        (error: { code: number; stdout: string }) => ({ code: error.code, out: error.stdout }),
      );
    try {
      expect((await tsc(file('good.ts', "'a@b.co'"))).code).toBe(0);
      const bad = await tsc(file('bad.ts', '42'));
      expect(bad.code).not.toBe(0);
      expect(bad.out).toMatch(/bad\.ts.*error TS2322: Type 'number' is not assignable to type 'string'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
