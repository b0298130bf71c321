import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, uniqueEmail } from '../helpers.js';
import { freePort, runCli, type RunningServer, startServer } from './processes.js';

async function post(server: RunningServer, path: string, body: unknown, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Token ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(server: RunningServer, path: string, token: string) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Token ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const tokenOf = (answer: { body: Record<string, unknown> }) =>
  (answer.body.result as { auth_token: string }).auth_token;
const idOf = (answer: { body: Record<string, unknown> }) => (answer.body.result as { id: number }).id;

const postgresUrl = inject('postgresUrl');
const redisUrl = inject('redisUrl');

describe.runIf(postgresUrl)('two instances on one PostgreSQL database', () => {
  let a: RunningServer;
  let b: RunningServer;
  const env = { DATABASE_URL: postgresUrl!, RATE_LIMIT: 'off', LOG_LEVEL: 'info' };
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('walks every flow across them: signup on A, login on B, retrieve on A, logout on B, old token refused on A', async () => {
    const email = uniqueEmail('two');
    const signup = await post(a, '/api/v1/users/signup/', { email, password: PASSWORD });
    expect(signup.status).toBe(201);
    const id = idOf(signup);
    const login = await post(b, '/api/v1/users/login/', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect((await get(a, `/api/v1/users/${id}/`, tokenOf(login))).status).toBe(200);
    expect((await post(b, `/api/v1/users/${id}/logout/`, {}, tokenOf(login))).status).toBe(200);
    expect((await get(a, `/api/v1/users/${id}/`, tokenOf(login))).body).toEqual({ message: 'Invalid Token' });
    expect((await get(b, `/api/v1/users/${id}/sessions/`, tokenOf(signup))).status).toBe(200);
  });

  it('refuses a CLI-deactivated account on both at the next request', async () => {
    const email = uniqueEmail('two-deact');
    const signup = await post(a, '/api/v1/users/signup/', { email, password: PASSWORD });
    const id = idOf(signup);
    expect((await runCli(['users', 'deactivate', email], { DATABASE_URL: postgresUrl! })).code).toBe(0);
    for (const server of [a, b]) {
      expect((await get(server, `/api/v1/users/${id}/`, tokenOf(signup))).status).toBe(401);
      expect((await post(server, '/api/v1/users/login/', { email, password: PASSWORD })).status).toBe(404);
    }
  });

  it('counts login failures across both', async () => {
    const email = uniqueEmail('two-throttle');
    await post(a, '/api/v1/users/signup/', { email, password: PASSWORD });
    for (let i = 0; i < 5; i++)
      await post(i % 2 ? a : b, '/api/v1/users/login/', { email, password: 'wrong password!' });
    expect((await post(a, '/api/v1/users/login/', { email, password: PASSWORD })).status).toBe(429);
    expect((await post(b, '/api/v1/users/login/', { email, password: PASSWORD })).status).toBe(429);
  });
});

describe.runIf(postgresUrl && redisUrl)('two instances with REDIS_URL: per-address limits shared', () => {
  it('counts signups from one address across both', async () => {
    const env = {
      DATABASE_URL: postgresUrl!,
      REDIS_URL: redisUrl!,
      RATE_LIMIT: 'on',
      RATE_LIMIT_SIGNUP_PER_HOUR: '2',
      TRUST_PROXY: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    try {
      const address = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const signup = (server: RunningServer) =>
        fetch(`${server.url}/api/v1/users/signup/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
          body: JSON.stringify({ email: uniqueEmail('redis'), password: PASSWORD }),
        }).then((r) => r.status);
      expect([await signup(a), await signup(b), await signup(a), await signup(b)]).toEqual([
        201, 201, 429, 429,
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('WORKERS=2 on one SQLite file', () => {
  let server: RunningServer;
  let metricsUrl: string;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ras-workers-')), 'ras.db');
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    server = await startServer({
      DATABASE_URL: `sqlite:${file}`,
      WORKERS: '2',
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'info',
      METRICS_PORT: String(metricsPort),
    });
  });
  afterAll(async () => {
    if (server.child.exitCode === null) await server.stop();
  });

  it('takes concurrent writes from both processes without losing one or surfacing SQLITE_BUSY', async () => {
    const emails = Array.from({ length: 120 }, () => uniqueEmail('workers'));
    const answers = await Promise.all(
      emails.map((email) => post(server, '/api/v1/users/signup/', { email, password: PASSWORD })),
    );
    expect(answers.map((r) => r.status)).toEqual(emails.map(() => 201));
    const ids = new Set(answers.map(idOf));
    expect(ids.size).toBe(emails.length);
    const logins = await Promise.all(
      emails.slice(0, 40).map((email) => post(server, '/api/v1/users/login/', { email, password: PASSWORD })),
    );
    expect(logins.map((r) => r.status)).toEqual(logins.map(() => 200));
  });

  it('counts every request of every worker in each scrape of /metrics', async () => {
    const healthChecks = async () => {
      const text = await (await fetch(metricsUrl)).text();
      const line = /^ras_http_requests_total\{[^}]*route="\/healthz"[^}]*\} (\d+)$/m.exec(text);
      return Number(line?.[1] ?? 0);
    };
    const before = await healthChecks();
    // New connections each time, so node:cluster spreads them over both workers.
    for (let i = 0; i < 40; i++)
      await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } }).then((r) => r.text());
    const scrapes = [await healthChecks(), await healthChecks(), await healthChecks()];
    expect(scrapes).toEqual([before + 40, before + 40, before + 40]);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^ras_login_outcomes_total\{outcome="success"\} 40$/m);
  });

  it('replaces a dead worker and keeps serving', async () => {
    const workers = () =>
      [...server.output().matchAll(/"pid":(\d+)[^\n]*Server listening/g)].map((m) => Number(m[1]));
    const [first] = workers();
    process.kill(first!, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('worker died; starting a new one') || workers().length < 3) {
      if (Date.now() > deadline) throw new Error(`no replacement worker:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toContain('every worker has drained');
  });
});
