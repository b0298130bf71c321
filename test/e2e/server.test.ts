import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PASSWORD, uniqueEmail } from '../helpers.js';
import { freePort, ROOT, SERVE, startServer } from './processes.js';

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

  it('`ras serve` (the bin) is the server process itself: SIGTERM drains it and it exits 0', async () => {
    const server = await startServer({ DATABASE_URL: `sqlite:${join(tempDir(), 'ras.db')}` }, ROOT, SERVE);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await server.stop('SIGTERM')).toBe(0);
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

describe('a start that cannot succeed: one line and the documented exit code, never a stack', () => {
  const start = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist/server.js')], {
        env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  it('exits 69 for a missing PostgreSQL database', async () => {
    const admin = inject('postgresAdminUrl');
    if (!admin) return;
    const url = new URL(admin);
    url.pathname = '/ras_no_such_database';
    const { code, stderr } = await start({ DATABASE_URL: url.toString(), PORT: String(await freePort()) });
    expect(code).toBe(69);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ras: cannot reach the database: /)]);
  });

  it('exits 73 for a SQLite path that cannot be created', async () => {
    const { code, stderr } = await start({
      DATABASE_URL: 'sqlite:/etc/passwd/ras.db',
      PORT: String(await freePort()),
    });
    expect(code).toBe(73);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 69 for a port in use, and 78 for a bad variable', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await start({ DATABASE_URL: 'sqlite::memory:', PORT: String(port) });
      expect(code).toBe(69);
      expect(stderr).toMatch(/^ras: cannot listen: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
    expect((await start({ TRUST_PROXY: 'yes' })).code).toBe(78);
  });
});
