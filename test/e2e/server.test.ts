import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../helpers.js';
import { startServer } from './processes.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ras-e2e-'));
  dirs.push(dir);
  return dir;
}

describe('the server process (node dist/server.js)', () => {
  it('creates ./data/ras.db on first start with no configuration, and serves', async () => {
    const cwd = tempDir();
    const server = await startServer({ DATABASE_URL: '' }, cwd);
    try {
      expect(existsSync(join(cwd, 'data', 'ras.db'))).toBe(true);
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('on SIGTERM finishes requests in flight, then exits 0', async () => {
    const server = await startServer({
      DATABASE_URL: `sqlite:${join(tempDir(), 'ras.db')}`,
      LOG_LEVEL: 'info',
      ACCESS_LOG: 'on',
    });
    const inFlight = Array.from({ length: 4 }, () =>
      fetch(`${server.url}/api/v1/users/signup/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
      }),
    );
    // Signal only once all four are inside the server: a request not yet received is not "in flight".
    while ((server.output().match(/incoming request/g) ?? []).length < 4) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const code = await server.stop('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(code).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('refuses to start with a clear message for a bad variable', async () => {
    await expect(startServer({ PORT: 'eighty' })).rejects.toThrow(/PORT/);
  });

  it('never logs passwords or tokens', async () => {
    const server = await startServer({
      DATABASE_URL: `sqlite:${join(tempDir(), 'ras.db')}`,
      LOG_LEVEL: 'trace',
    });
    const email = uniqueEmail();
    const signup = await fetch(`${server.url}/api/v1/users/signup/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const { result } = (await signup.json()) as { result: { id: number; auth_token: string } };
    await fetch(`${server.url}/api/v1/users/${result.id}/?token=${result.auth_token}`, {
      headers: { authorization: `Token ${result.auth_token}` },
    });
    await server.stop();
    expect(server.output()).toContain('"event":"signup"');
    expect(server.output()).not.toContain(PASSWORD);
    expect(server.output()).not.toContain(result.auth_token);
    expect(server.output()).not.toContain(result.auth_token.slice(4));
  });
});
