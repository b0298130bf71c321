/**
 * What happens on the wire, with real sockets: request targets in absolute form, clients that trickle their
 * headers, bodies no route will read, bodies over the limit.
 * @see issue 11
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signupAccount } from '../../test/helpers.js';

/** Sends raw bytes, resolves with everything the server wrote until it closed (or `ms` passed). */
function exchange(
  port: number,
  send: (socket: Socket) => void,
  ms = 15_000,
): Promise<{ data: string; error?: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let error: string | undefined;
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, error, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => send(socket));
  });
}

describe('connections', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:');
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('marks an /api answer no-store by its route, also for an absolute-form request target', async () => {
    const account = await signupAccount(app);
    const { data } = await exchange(port, (s) =>
      s.write(
        `GET http://127.0.0.1:${port}/api/v1/users/${account.id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Authorization: Token ${account.token}\r\nConnection: close\r\n\r\n`,
      ),
    );
    expect(data).toMatch(/^HTTP\/1\.1 200 /);
    expect(data.toLowerCase()).toContain('cache-control: no-store');
  });

  it('cuts a client that trickles its headers after the 5 s header timeout, not ~30 s', async () => {
    let timer: NodeJS.Timeout | undefined;
    const { closedAfterMs } = await exchange(port, (s) => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      let n = 0;
      timer = setInterval(() => {
        if (!s.destroyed) s.write(`X-Slow-${n++}: y\r\n`);
      }, 1000);
    });
    clearInterval(timer);
    expect(closedAfterMs).toBeGreaterThan(4500);
    expect(closedAfterMs).toBeLessThan(8000);
  }, 20_000);

  it.each([
    ['an unknown path', 'POST', '/api/v1/nothing/', 404],
    ['a method the path does not serve', 'PUT', '/api/v1/users/login/', 405],
  ])(
    'answers %s before reading its body: a 960 KB JSON body gets %s, not 413',
    async (_what, method, path, status) => {
      const body = JSON.stringify({ padding: 'x'.repeat(960 * 1024) });
      const res = await app.inject({
        method: method as 'POST',
        url: path,
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(status);
      const malformed = await app.inject({
        method: method as 'POST',
        url: path,
        payload: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.statusCode).toBe(status);
    },
  );

  it('reads a too-large body to its end instead of resetting the connection: the client gets its 413, and the next answer', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 'a');
    for (let i = 0; i < 5; i++) {
      const { data, error } = await exchange(port, (s) => {
        s.write(
          `POST /api/v1/users/signup/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${body.length}\r\n\r\n`,
        );
        s.write(body);
        // Only a connection kept open (its body read and dropped) answers this second request.
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      expect(error).toBeUndefined();
      expect(data).toMatch(/^HTTP\/1\.1 413 /);
      expect(data).toContain('{"status_code":413,"message":"request body is too large"}');
      expect(data).toMatch(/HTTP\/1\.1 200 [\s\S]*\{"status":"ok"\}$/);
    }
  }, 60_000);
});
