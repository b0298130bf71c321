/**
 * Redis goes away with REDIS_URL set: the login throttle guards passwords, so it fails closed, with a 503
 * within a second (never a 500 after seconds of retries), and serves again when Redis is back; and a
 * database that answers without Ras's schema is not healthy.
 * @see issue 11
 */
import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/database.js';
import {
  buildTestApp,
  describeEachDatabase,
  PASSWORD,
  privatePostgresDatabase,
  signupAccount,
} from '../helpers.js';

const UNAVAILABLE = '{"status_code":503,"message":"service temporarily unavailable, please try again"}';

/** A TCP relay to Redis that the test can cut and restore, as a network partition would. */
function redisRelay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server?.close(() => resolve());
    });
  return { start, cut, url: () => `redis://127.0.0.1:${port}${target.pathname}` };
}

describe.runIf(inject('redisUrl'))('Redis goes away: login fails closed with 503 within a second', () => {
  const relay = redisRelay(new URL(inject('redisUrl')!));
  let app: FastifyInstance;
  beforeAll(async () => {
    await relay.start();
    app = await buildTestApp('sqlite::memory:', { REDIS_URL: relay.url() });
  });
  afterAll(async () => {
    await app.close();
    await relay.cut();
  });

  const login = (email: string, password: string) =>
    app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });

  it('answers 503 in the envelope within a second while Redis is cut, /healthz too, and serves again after', async () => {
    const { email } = await signupAccount(app);
    expect((await login(email, PASSWORD)).statusCode).toBe(200);
    await relay.cut();
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await login(email, PASSWORD);
      expect(res.statusCode).toBe(503);
      expect(res.body).toBe(UNAVAILABLE);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(503);
    await relay.start();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await login(email, PASSWORD)).statusCode;
    }
    expect(status).toBe(200);
  });

  it('starts while Redis cannot be reached, and answers 503 at once', async () => {
    const unreachable = await buildTestApp('sqlite::memory:', { REDIS_URL: 'redis://127.0.0.1:1/9' });
    try {
      const { email } = await signupAccount(unreachable);
      const started = performance.now();
      const res = await unreachable.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: PASSWORD },
      });
      expect(res.statusCode).toBe(503);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await unreachable.close();
    }
  });
});

describeEachDatabase('/healthz and the schema', (database) => {
  it('fails when the database answers but its schema is gone', async () => {
    const own = database.name === 'postgres' ? await privatePostgresDatabase() : undefined;
    const url = own?.url ?? database.url();
    const app = await buildTestApp(url);
    const raw = await openDatabase(url);
    try {
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
      await sql`drop table kysely_migration`.execute(raw.db);
      await sql`drop table login_throttle`.execute(raw.db);
      const res = await app.inject({ url: '/healthz' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toBe(UNAVAILABLE);
    } finally {
      await raw.close();
      await app.close();
      await own?.drop();
    }
  });
});
