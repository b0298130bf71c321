import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AttemptReservation, ThrottleStore } from '../accounts/storage.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, KNOWN_ADDRESS_MS } from '../accounts/throttle.js';
import { describeEachDatabase } from '../../test/helpers.js';
import { type Database, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { openRedis } from './redis.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import { SqlThrottleStore } from './throttle.store.js';

const DAY = 24 * 60 * 60_000;

function attempt(email: string, ip: string, now: number): AttemptReservation {
  return {
    now,
    knownAddressMs: KNOWN_ADDRESS_MS,
    address: { key: `address:${email} ${ip}`, policy: ADDRESS_POLICY },
    account: { key: `account:${email}`, policy: ACCOUNT_POLICY },
  };
}

/** One suite for every ThrottleStore: the database's (JavaScript in a transaction) and Redis's (Lua) alike. */
function throttleStoreSuite(open: () => Promise<{ store: ThrottleStore; close: () => Promise<void> }>): void {
  let store: ThrottleStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(() => close());

  const email = () => `${randomUUID()}@example.com`;

  it('counts an admitted attempt under both keys before any password is checked', async () => {
    const e = email();
    const t = Date.now();
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t))).toBe(0);
    const counters = await store.readCounters([`address:${e} 192.0.2.1`, `account:${e}`]);
    expect(counters.get(`address:${e} 192.0.2.1`)).toMatchObject({
      failures: 1,
      lastFailureAt: t,
      blockedUntil: 0,
    });
    expect(counters.get(`account:${e}`)).toMatchObject({ failures: 1, lastFailureAt: t, blockedUntil: 0 });
  });

  it('blocks from the 5th attempt of an address, refuses while blocked without counting, and restarts after the window', async () => {
    const e = email();
    const t = Date.now();
    for (let i = 0; i < 5; i++) expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t))).toBe(0);
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t + 10))).toBe(t + 1000);
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t + 999))).toBe(t + 1000);
    expect(
      (await store.readCounters([`address:${e} 192.0.2.1`])).get(`address:${e} 192.0.2.1`)?.failures,
    ).toBe(5);
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t + 1000))).toBe(0);
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t + 1001))).toBe(t + 3000);
    const later = t + 2 * ADDRESS_POLICY.windowMs;
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', later))).toBe(0);
    expect(
      (await store.readCounters([`address:${e} 192.0.2.1`])).get(`address:${e} 192.0.2.1`)?.failures,
    ).toBe(1);
  });

  it('admits exactly five of 25 simultaneous attempts from one address', async () => {
    const e = email();
    const t = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 25 }, () => store.reserveAttempt(attempt(e, '192.0.2.1', t))),
    );
    expect(outcomes.filter((o) => o === 0)).toHaveLength(5);
    expect((await store.readCounters([`account:${e}`])).get(`account:${e}`)?.failures).toBe(5);
  });

  it('admits exactly twenty of 40 simultaneous attempts on one account from ten addresses', async () => {
    const e = email();
    const t = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.reserveAttempt(attempt(e, `203.0.113.${i % 10}`, t))),
    );
    expect(outcomes.filter((o) => o === 0)).toHaveLength(20);
  });

  it('clears both keys on success and exempts that address from the account-wide block', async () => {
    const e = email();
    const t = Date.now();
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t))).toBe(0);
    await store.recordSuccess([`address:${e} 192.0.2.1`, `account:${e}`], t + 1);
    const counters = await store.readCounters([`address:${e} 192.0.2.1`, `account:${e}`]);
    expect(counters.get(`address:${e} 192.0.2.1`)).toMatchObject({
      failures: 0,
      blockedUntil: 0,
      lastSuccessAt: t + 1,
    });
    expect(counters.get(`account:${e}`)).toMatchObject({ failures: 0, blockedUntil: 0 });
    for (let i = 0; i < 20; i++) await store.reserveAttempt(attempt(e, `203.0.113.${i}`, t + 2));
    expect(await store.reserveAttempt(attempt(e, '198.51.100.1', t + 3))).toBeGreaterThan(t + 3);
    expect(await store.reserveAttempt(attempt(e, '192.0.2.1', t + 3))).toBe(0);
  });
}

describeEachDatabase('SqlThrottleStore', (database) => {
  let db: Database;
  throttleStoreSuite(async () => {
    db = await openDatabase(database.url());
    await migrateToLatest(db.db);
    return { store: new SqlThrottleStore(db.db), close: () => db.close() };
  });

  it('admits exactly five of 30 simultaneous attempts from two instances (each its own pool and queue)', async () => {
    // SQLite: a second connection in this one process would wait on the first's lock with the event loop
    // blocked; several processes share a SQLite file through its lock (kill9 and scale tests).
    if (database.name !== 'postgres') return;
    const second = await openDatabase(database.url());
    try {
      const stores = [new SqlThrottleStore(db.db), new SqlThrottleStore(second.db)];
      const e = `${randomUUID()}@example.com`;
      const t = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => stores[i % 2]!.reserveAttempt(attempt(e, '192.0.2.1', t))),
      );
      expect(outcomes.filter((o) => o === 0)).toHaveLength(5);
    } finally {
      await second.close();
    }
  });

  it('holds both rows from read to write: another instance waits, then counts on top (forced interleaving)', async () => {
    if (database.name !== 'postgres') return; // SQLite: BEGIN IMMEDIATE, one writer at a time by construction
    const second = await openDatabase(database.url());
    let release!: () => void;
    let paused!: () => void;
    const reachedPause = new Promise<void>((resolve) => (paused = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const first = new SqlThrottleStore(db.db, async () => {
        paused();
        await held;
      });
      const other = new SqlThrottleStore(second.db);
      const e = `${randomUUID()}@example.com`;
      const t = Date.now();
      for (let i = 0; i < 3; i++) await other.reserveAttempt(attempt(e, '192.0.2.1', t));
      const fourth = first.reserveAttempt(attempt(e, '192.0.2.1', t));
      await reachedPause;
      let fifthDone = false;
      const fifth = other.reserveAttempt(attempt(e, '192.0.2.1', t)).then((r) => {
        fifthDone = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(fifthDone).toBe(false);
      release();
      expect(await fourth).toBe(0);
      expect(await fifth).toBe(0);
      expect(await other.reserveAttempt(attempt(e, '192.0.2.1', t))).toBe(t + 1000);
      const key = `address:${e} 192.0.2.1`;
      expect((await other.readCounters([key])).get(key)?.failures).toBe(5);
    } finally {
      release();
      await second.close();
    }
  });

  it('leaves the connection at synchronous = FULL after a counter write (only counters skip the fsync)', async () => {
    if (database.name !== 'sqlite') return;
    const store = new SqlThrottleStore(db.db);
    await store.reserveAttempt(attempt(`${randomUUID()}@x.io`, '192.0.2.1', Date.now()));
    await store.recordSuccess([`account:${randomUUID()}@x.io`], Date.now());
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db.db);
    expect(rows[0]?.synchronous).toBe(2);
  });

  it('prunes counters with no recent failure, block or remembered success', async () => {
    const store = new SqlThrottleStore(db.db);
    const [stale, recent, remembered] = [randomUUID(), randomUUID(), randomUUID()].map((u) => `${u}@x.io`);
    const t = Date.now();
    await store.reserveAttempt(attempt(stale!, '192.0.2.1', t - 2 * DAY));
    await store.reserveAttempt(attempt(recent!, '192.0.2.1', t));
    await store.recordSuccess([`account:${remembered}`], t - 2 * DAY);
    await store.prune(t, 30 * DAY);
    const keys = [stale, recent].flatMap((e) => [`account:${e}`, `address:${e} 192.0.2.1`]);
    const left = await store.readCounters([...keys, `account:${remembered}`]);
    expect([...left.keys()].sort()).toEqual(
      [`account:${recent}`, `address:${recent} 192.0.2.1`, `account:${remembered}`].sort(),
    );
  });
});

const redisUrl = inject('redisUrl');
describe.runIf(redisUrl)('RedisThrottleStore', () => {
  throttleStoreSuite(async () => {
    const redis = await openRedis(redisUrl!);
    return { store: new RedisThrottleStore(redis, 30 * DAY), close: async () => void (await redis.quit()) };
  });

  it('admits exactly five of 30 simultaneous attempts from two instances (each its own connection)', async () => {
    const clients = [await openRedis(redisUrl!), await openRedis(redisUrl!)];
    try {
      const stores = clients.map((redis) => new RedisThrottleStore(redis, 30 * DAY));
      const e = `${randomUUID()}@example.com`;
      const t = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => stores[i % 2]!.reserveAttempt(attempt(e, '192.0.2.1', t))),
      );
      expect(outcomes.filter((o) => o === 0)).toHaveLength(5);
    } finally {
      for (const redis of clients) await redis.quit();
    }
  });
});
if (!redisUrl) describe.skip('RedisThrottleStore [Redis NOT REACHABLE, SKIPPED]', () => undefined);
