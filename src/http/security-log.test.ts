import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, buildTestApp, loginAccount, PASSWORD, signupAccount } from '../../test/helpers.js';

interface LogLine {
  event?: string;
  ip?: string;
  userId?: number;
  reqId?: string;
  [key: string]: unknown;
}

describe('security events in the log', () => {
  let app: FastifyInstance;
  let raw = '';
  const secrets: string[] = [PASSWORD];
  beforeAll(async () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw += chunk.toString();
        done();
      },
    });
    app = await buildTestApp('sqlite::memory:', { LOG_LEVEL: 'info' }, { logStream });

    // A full run of every kind of event, remembering each secret used.
    const account = await signupAccount(app);
    const other = await signupAccount(app);
    const leaving = await signupAccount(app);
    const second = await loginAccount(app, account.email);
    secrets.push(account.token, other.token, leaving.token, second);
    const wrong = 'wrong password\r\n{"event":"login.success","userId":1}';
    secrets.push(wrong);
    for (let i = 0; i < 6; i++) {
      await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: account.email, password: wrong },
      });
    }
    await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: 'evil\r\n{"event":"forged"}@example.com', password: wrong },
    });
    await app.inject({ url: `/api/v1/users/${other.id}/`, headers: authHeader(account.token) });
    await app.inject({
      url: `/api/v1/users/${account.id}/?token=${account.token}`,
      headers: authHeader(account.token),
    });
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/logout/`,
      headers: authHeader(second),
    });
    const newPassword = 'another long passphrase';
    secrets.push(newPassword);
    const changed = await app.inject({
      method: 'POST',
      url: `/api/v1/users/${other.id}/password/`,
      headers: authHeader(other.token),
      payload: { current_password: PASSWORD, new_password: newPassword },
    });
    const otherToken = changed.json<{ result: { auth_token: string } }>().result.auth_token;
    secrets.push(otherToken);
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${other.id}/logout/all/`,
      headers: authHeader(otherToken),
    });
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${leaving.id}/deactivate/`,
      headers: authHeader(leaving.token),
      payload: { password: PASSWORD },
    });
  });
  afterAll(() => app.close());

  const lines = (): LogLine[] =>
    raw
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);

  it('writes one JSON object per line, so CR/LF in input cannot forge a line', () => {
    expect(lines().length).toBe(raw.trim().split('\n').length);
    expect(lines().some((l) => l.event === 'forged')).toBe(false);
    expect(lines().filter((l) => l.event === 'login.success')).toHaveLength(1);
  });

  it.each([
    'signup',
    'login.success',
    'login.failure',
    'throttle',
    'auth.forbidden',
    'logout',
    'password.change',
    'logout.all',
    'deactivate',
  ])('logs %s with request id, address and user id', (event) => {
    const line = lines().find((l) => l.event === event);
    expect(line, `no ${event} line`).toBeDefined();
    expect(line?.reqId).toBeTruthy();
    expect(line?.ip).toBe('127.0.0.1');
    expect(typeof line?.userId, event).toBe('number');
  });

  it('never logs a password, a token or a token without its prefix', () => {
    for (const secret of secrets) {
      expect(raw).not.toContain(secret);
      if (secret.startsWith('ras_')) expect(raw).not.toContain(secret.slice(4));
    }
    expect(raw).not.toContain(JSON.stringify('wrong password').slice(1, -1));
  });
});

it('writes reqId once per line with ACCESS_LOG=on too, and request ids carry the process id', async () => {
  let raw = '';
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const app = await buildTestApp('sqlite::memory:', { LOG_LEVEL: 'info', ACCESS_LOG: 'on' }, { logStream });
  try {
    await signupAccount(app);
    const lines = raw.split('\n').filter((line) => line.includes('"event"'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.match(/"reqId"/g)).toHaveLength(1);
    const id = (JSON.parse(lines[0]!) as { reqId: string }).reqId;
    expect(id.startsWith(`${process.pid.toString(36)}-`)).toBe(true);
  } finally {
    await app.close();
  }
});
