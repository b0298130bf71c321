import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/store/database.js';
import { databaseOfItsOwn, describeEachDatabase, PASSWORD, uniqueEmail } from '../helpers.js';
import { mailEnv, startMailServer, tokenIn } from '../mail-server.js';
import { type RunningServer, startServer } from '../e2e/processes.js';

interface Acknowledged {
  kind: 'signup' | 'login';
  id: number;
  email: string;
  token: string;
}

/** Sends signups and logins, 8 at a time, until the server stops answering; returns every 2xx it got. */
async function streamUntilDeath(
  server: RunningServer,
  seedEmail: string,
  killAfterMs: number,
): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  let alive = true;
  setTimeout(() => {
    server.child.kill('SIGKILL');
  }, killAfterMs);
  server.child.once('exit', () => (alive = false));
  const worker = async (n: number) => {
    for (let i = 0; alive; i++) {
      const signup = (n + i) % 2 === 0;
      const email = signup ? uniqueEmail('kill9') : seedEmail;
      try {
        const res = await fetch(`${server.url}/api/v1/users/${signup ? 'signup' : 'login'}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: PASSWORD }),
        });
        if (res.ok) {
          const { result } = (await res.json()) as { result: { id: number; auth_token: string } };
          acknowledged.push({
            kind: signup ? 'signup' : 'login',
            id: result.id,
            email,
            token: result.auth_token,
          });
        }
      } catch {
        // The server died under this request: it was never acknowledged, so nothing is owed for it.
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
  return acknowledged;
}

describeEachDatabase('kill -9 in the middle of signups and logins', (database) => {
  let raw: Database | undefined;
  afterAll(() => raw?.close());

  it('keeps every acknowledged write, leaves no partial row, and passes the integrity check', async () => {
    const url = database.url();
    const env = { DATABASE_URL: url, RATE_LIMIT: 'off', LOG_LEVEL: 'info' };
    let server = await startServer(env);
    const seedEmail = uniqueEmail('kill9-seed');
    const seeded = await fetch(`${server.url}/api/v1/users/signup/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: seedEmail, password: PASSWORD }),
    });
    expect(seeded.status).toBe(201);

    const acknowledged = await streamUntilDeath(server, seedEmail, 1500);
    expect(server.child.signalCode).toBe('SIGKILL');
    expect(acknowledged.filter((a) => a.kind === 'signup').length).toBeGreaterThan(5);
    expect(acknowledged.filter((a) => a.kind === 'login').length).toBeGreaterThan(5);

    console.log(
      `kill -9 [${database.name}]: ${acknowledged.filter((a) => a.kind === 'signup').length} signups and ` +
        `${acknowledged.filter((a) => a.kind === 'login').length} logins acknowledged before the kill; checking each after restart`,
    );
    server = await startServer(env);
    try {
      for (const ack of acknowledged) {
        const me = await fetch(`${server.url}/api/v1/users/${ack.id}/`, {
          headers: { authorization: `Token ${ack.token}` },
        });
        expect(me.status, `${ack.kind} ${ack.email}`).toBe(200);
      }
    } finally {
      await server.stop();
    }

    raw = await openDatabase(url);
    const emails = acknowledged.filter((a) => a.kind === 'signup').map((a) => a.email);
    const users = await raw.db
      .selectFrom('users')
      .select(['email', 'password_hash'])
      .where('email', 'in', emails)
      .execute();
    expect(users).toHaveLength(emails.length);
    for (const user of users) expect(user.password_hash).toMatch(/^\$argon2id\$/);
    // Only this test's accounts: on PostgreSQL the database is shared with the other files of the run, and
    // some insert accounts with placeholder hashes (session-lookup.test.ts).
    const withoutHash = await raw.db
      .selectFrom('users')
      .select('id')
      .where('email', 'like', 'kill9%')
      .where('password_hash', 'not like', '$argon2%')
      .where('password_hash', 'not like', '!%')
      .execute();
    expect(withoutHash).toEqual([]);
    const orphans = await raw.db
      .selectFrom('sessions')
      .leftJoin('users', 'users.id', 'sessions.user_id')
      .select('sessions.id')
      .where('users.id', 'is', null)
      .execute();
    expect(orphans).toEqual([]);
    if (database.name === 'sqlite') {
      const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(raw.db);
      expect(rows.map((r) => r.integrity_check)).toEqual(['ok']);
    }
  }, 60_000);

  it('mails after a restart the reset link of a request answered just before kill -9', async () => {
    const own = await databaseOfItsOwn(database);
    // The relay is down until after the kill: nothing can have been sent between the answer and the kill.
    const probe = await startMailServer();
    const port = probe.port;
    await probe.close();
    const env = {
      DATABASE_URL: own.url,
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'info',
      ...mailEnv(`smtp://127.0.0.1:${port}`),
    };
    let server = await startServer(env);
    const email = uniqueEmail('kill9-mail');
    const post = (path: string, body: object) =>
      fetch(`${server.url}/api/v1/users/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('signup/', { email, password: PASSWORD })).status).toBe(201);
    expect((await post('password/reset/', { email })).status).toBe(200);
    expect(await server.stop('SIGKILL')).toBe(null);

    const relay = await startMailServer(port);
    server = await startServer(env);
    try {
      const [reset] = await relay.waitForSubject(email, 'Reset', 1, 40_000);
      expect(tokenIn(reset!)).toMatch(/^ras_reset_/);
    } finally {
      await server.stop();
      await relay.close();
      await own.drop();
    }
  }, 60_000);
});
