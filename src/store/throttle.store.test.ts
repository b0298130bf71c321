import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ThrottleStore } from '../accounts/storage.js';
import { describeEachDatabase } from '../../test/helpers.js';
import { type Database, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { openRedis } from './redis.js';
import { RedisThrottleStore } from './redis-throttle.store.js';
import { SqlThrottleStore } from './throttle.store.js';

const WINDOW = 15 * 60_000;
const DAY = 24 * 60 * 60_000;

/** One suite for every ThrottleStore: the database's and Redis's must count alike. */
function throttleStoreSuite(open: () => Promise<{ store: ThrottleStore; close: () => Promise<void> }>): void {
  let store: ThrottleStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(() => close());

  const key = () => `address:${randomUUID()}@example.com 127.0.0.1`;

  it('counts consecutive failures and restarts after the window', async () => {
    const k = key();
    const t = Date.now();
    expect(await store.recordFailure(k, t, WINDOW)).toBe(1);
    expect(await store.recordFailure(k, t + 1000, WINDOW)).toBe(2);
    expect(await store.recordFailure(k, t + 1000 + WINDOW, WINDOW)).toBe(1);
  });

  it('counts concurrent failures exactly', async () => {
    const k = key();
    const t = Date.now();
    const counts = await Promise.all(Array.from({ length: 25 }, () => store.recordFailure(k, t, WINDOW)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect((await store.readCounters([k])).get(k)?.failures).toBe(25);
  });

  it('keeps the longest block', async () => {
    const k = key();
    const t = Date.now();
    await store.recordFailure(k, t, WINDOW);
    await store.blockUntil(k, t + 5000);
    await store.blockUntil(k, t + 2000);
    expect((await store.readCounters([k])).get(k)?.blockedUntil).toBe(t + 5000);
  });

  it('clears failures and block on success and remembers it', async () => {
    const k = key();
    const t = Date.now();
    await store.recordFailure(k, t, WINDOW);
    await store.blockUntil(k, t + 5000);
    await store.recordSuccess(k, t + 1);
    expect((await store.readCounters([k])).get(k)).toEqual({
      failures: 0,
      blockedUntil: 0,
      lastSuccessAt: t + 1,
    });
  });

  it('reads several keys at once and leaves unknown ones out', async () => {
    const [a, b] = [key(), key()];
    await store.recordFailure(a, Date.now(), WINDOW);
    const counters = await store.readCounters([a, b]);
    expect(counters.has(a)).toBe(true);
    expect(counters.has(b)).toBe(false);
  });
}

describeEachDatabase('SqlThrottleStore', (database) => {
  let db: Database;
  throttleStoreSuite(async () => {
    db = await openDatabase(database.url());
    await migrateToLatest(db.db);
    return { store: new SqlThrottleStore(db.db), close: () => db.close() };
  });

  it('prunes counters with no recent failure, block or remembered success', async () => {
    const store = new SqlThrottleStore(db.db);
    const [stale, recent, remembered] = [randomUUID(), randomUUID(), randomUUID()].map(
      (u) => `account:${u}@x.io`,
    );
    const t = Date.now();
    await store.recordFailure(stale!, t - 2 * DAY, WINDOW);
    await store.recordFailure(recent!, t, WINDOW);
    await store.recordSuccess(remembered!, t - 2 * DAY);
    await store.prune(t, 30 * DAY);
    const left = await store.readCounters([stale!, recent!, remembered!]);
    expect([...left.keys()].sort()).toEqual([recent, remembered].sort());
  });
});

const redisUrl = inject('redisUrl');
describe.runIf(redisUrl)('RedisThrottleStore', () => {
  throttleStoreSuite(async () => {
    const redis = await openRedis(redisUrl!);
    return { store: new RedisThrottleStore(redis, 30 * DAY), close: async () => void (await redis.quit()) };
  });
});
if (!redisUrl) describe.skip('RedisThrottleStore [Redis NOT REACHABLE, SKIPPED]', () => undefined);
