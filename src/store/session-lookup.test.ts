import { randomUUID } from 'node:crypto';
import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeEachDatabase } from '../../test/helpers.js';
import { hashToken } from '../crypto/tokens.js';
import { type Database, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { SessionLookup } from './session-lookup.js';
import { KyselyStore } from './store.js';

const HOUR = 60 * 60_000;

/** Counts the queries run through it. */
function queryCounter(): KyselyPlugin & { count: number } {
  return {
    count: 0,
    transformQuery: (args) => args.node,
    async transformResult(args) {
      this.count++;
      return args.result;
    },
  };
}

describeEachDatabase('session lookup', (testDb) => {
  let database: Database;
  let store: KyselyStore;
  const now = Date.now();

  beforeAll(async () => {
    database = await openDatabase(testDb.url());
    await migrateToLatest(database.db);
    store = new KyselyStore(database.db);
  });
  afterAll(() => database.close());

  async function newUser(): Promise<number> {
    const id = await store.users.insertUser({
      email: `lookup-${randomUUID()}@example.com`,
      passwordHash: 'not a real hash',
      dateJoined: now,
    });
    if (id === undefined) throw new Error('user not created');
    return id;
  }

  async function newSession(userId: number, expiresAt = now + HOUR): Promise<string> {
    const token = `ras_${randomUUID()}`;
    const opened = await store.sessions.openSession(
      { tokenHash: hashToken(token), createdAt: now, expiresAt, userAgent: null, ip: null },
      { userId, credentialsVersion: 0 },
    );
    if (opened === undefined) throw new Error('session not opened');
    return token;
  }

  it('answers each lookup of one turn from one query: live, expired, unknown, deactivated, repeated', async () => {
    const active = await newUser();
    const deactivated = await newUser();
    const live = await newSession(active);
    const expired = await newSession(active, now - 1);
    const ofDeactivated = await newSession(deactivated);
    await store.users.setUserActive(deactivated, false);
    const counter = queryCounter();
    const lookup = new SessionLookup(database.db.withPlugin(counter));

    const tokens = [live, expired, 'ras_unknown', ofDeactivated, live];
    const found = await Promise.all(tokens.map((token) => lookup.find(hashToken(token), now)));

    expect(counter.count).toBe(1);
    expect(found.map((session) => session?.userId)).toEqual([
      active,
      undefined,
      undefined,
      undefined,
      active,
    ]);
    expect(found[0]).toEqual({
      sessionId: expect.any(Number),
      userId: active,
      email: expect.stringMatching(/^lookup-/),
      emailVerified: false,
      expiresAt: now + HOUR,
      lastSeenAt: now,
    });
    // Each caller gets its own copy: one touching lastSeenAt does not change another's.
    expect(found[0]).not.toBe(found[4]);
  });

  it('judges expiry by each lookup’s own time', async () => {
    const token = await newSession(await newUser(), now + 1000);
    const lookup = new SessionLookup(database.db);
    const [before, after] = await Promise.all([
      lookup.find(hashToken(token), now + 999),
      lookup.find(hashToken(token), now + 1000),
    ]);
    expect(before?.expiresAt).toBe(now + 1000);
    expect(after).toBeUndefined();
  });

  it('splits a burst into batches of at most 64', async () => {
    const userId = await newUser();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => newSession(userId)));
    const counter = queryCounter();
    const lookup = new SessionLookup(database.db.withPlugin(counter));

    const burst = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? tokens[i % 10]! : `ras_none_${i}`));
    const found = await Promise.all(burst.map((token) => lookup.find(hashToken(token), now)));

    expect(counter.count).toBe(3);
    expect(found.map((session) => session?.userId)).toEqual(
      burst.map((token) => (token.startsWith('ras_none') ? undefined : userId)),
    );
  });

  it('with batches in flight at their bound, gathers the next turns into one waiting batch', async () => {
    const token = await newSession(await newUser());
    let sent = 0;
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding: KyselyPlugin = {
      transformQuery: (args) => (sent++, args.node),
      async transformResult(args) {
        await held; // every answer waits until released
        return args.result;
      },
    };
    const lookup = new SessionLookup(database.db.withPlugin(holding), 1);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      const first = lookup.find(hashToken(token), now);
      while (sent === 0) await turn();
      const later = [lookup.find(hashToken(token), now)];
      await turn();
      later.push(lookup.find('unknown', now));
      await turn();
      later.push(lookup.find(hashToken(token), now));
      for (let i = 0; i < 5; i++) await turn();
      expect(sent).toBe(1); // one batch out; the three later lookups wait for it
      release();
      const found = await Promise.all([first, ...later]);
      expect(found.map((session) => session !== undefined)).toEqual([true, true, false, true]);
      expect(sent).toBe(2); // the three went together
    } finally {
      release();
    }
  });

  it('sees a revocation committed before the lookup was asked', async () => {
    const token = await newSession(await newUser());
    const lookup = new SessionLookup(database.db);
    expect(await lookup.find(hashToken(token), now)).toBeDefined();
    await store.sessions.deleteSessionByTokenHash(hashToken(token));
    expect(await lookup.find(hashToken(token), now)).toBeUndefined();
  });

  it('fails every lookup of the batch when the query fails', async () => {
    const failing: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: () => Promise.reject(new Error('connection lost')),
    };
    const lookup = new SessionLookup(database.db.withPlugin(failing));
    const results = await Promise.allSettled([lookup.find('a', now), lookup.find('b', now)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});

// PostgreSQL only: under CI=true the suite refuses to run without it (test/global-setup.ts).
describe.runIf(inject('postgresUrl'))('session lookup [postgres]', () => {
  it('runs as a named prepared statement, parsed once per connection', async () => {
    const single = await openDatabase(inject('postgresUrl')!, { poolMax: 1 });
    try {
      await migrateToLatest(single.db);
      const store = new KyselyStore(single.db);
      const userId = await store.users.insertUser({
        email: `prepared-${randomUUID()}@example.com`,
        passwordHash: 'not a real hash',
        dateJoined: Date.now(),
      });
      const token = `ras_${randomUUID()}`;
      const now = Date.now();
      await store.sessions.openSession(
        { tokenHash: hashToken(token), createdAt: now, expiresAt: now + HOUR, userAgent: null, ip: null },
        { userId: userId!, credentialsVersion: 0 },
      );
      const lookup = new SessionLookup(single.db);
      for (let i = 0; i < 3; i++) expect(await lookup.find(hashToken(token), now)).toBeDefined();
      // The pool's one connection: its own prepared statements are what it shows.
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(
        single.db,
      );
      expect(rows).toEqual([{ name: expect.stringMatching(/^ras_[0-9a-f]{24}$/) }]);
    } finally {
      await single.close();
    }
  });
});
