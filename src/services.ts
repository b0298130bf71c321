import type { Redis } from 'ioredis';
import type { AccountsContext } from './accounts/context.js';
import { KNOWN_ADDRESS_MS, LoginThrottle } from './accounts/throttle.js';
import type { Config } from './config.js';
import { PasswordHasher } from './crypto/passwords.js';
import { type Database, openDatabase } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { openRedis } from './store/redis.js';
import { RedisThrottleStore } from './store/redis-throttle.store.js';
import { KyselyStore } from './store/store.js';
import { SqlThrottleStore } from './store/throttle.store.js';

/** Everything an entry point (server, cluster primary, CLI, import) works with, opened in one place. */
export interface Services {
  ctx: AccountsContext;
  database: Database;
  /** The Redis connection with REDIS_URL (the per-address rate limits share it), else null. */
  redis: Redis | null;
  /** Each resolves when its dependency (the database with its schema, Redis) answers. */
  checks: (() => Promise<void>)[];
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** The clock, for tests that move time; defaults to Date.now. */
  now?: () => number;
  /** The hasher, for tests that pause it; defaults to one built from config. */
  passwords?: PasswordHasher;
  /** Start housekeeping (pruning old throttle counters), reporting failures here. Servers do; the CLI does not. */
  onHousekeepingError?: (error: unknown) => void;
  /** PostgreSQL connections, when this entry point needs fewer than DATABASE_POOL_MAX. */
  poolMax?: number;
}

/**
 * Opens the database (migrating it to the latest schema), Redis when configured, and the accounts context
 * over them. `close()` undoes all of it.
 */
export async function openServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const database = await openDatabase(config.database, {
    poolMax: options.poolMax ?? config.databasePoolMax,
  });
  let redis: Redis | null = null;
  try {
    await migrateToLatest(database.db);
    redis = config.redisUrl ? await openRedis(config.redisUrl) : null;
  } catch (error) {
    await database.close();
    throw error;
  }
  const now = options.now ?? Date.now;
  const sqlThrottle = new SqlThrottleStore(database.db);
  const store = new KyselyStore(database.db);
  const ctx: AccountsContext = {
    store,
    passwords: options.passwords ?? new PasswordHasher(config.argon2Concurrency, config.argon2QueueMax),
    throttle: new LoginThrottle(redis ? new RedisThrottleStore(redis, KNOWN_ADDRESS_MS) : sqlThrottle, now),
    now,
    sessionTtlMs: config.sessionTtlMs,
    sessionsMax: config.sessionsMax,
  };
  // Redis expires its counters by itself; the database's are pruned.
  const onHousekeepingError = options.onHousekeepingError;
  const stopPruning =
    onHousekeepingError && !redis
      ? sqlThrottle.startPruning(now, KNOWN_ADDRESS_MS, onHousekeepingError)
      : undefined;
  const openRedisClient = redis;
  return {
    ctx,
    database,
    redis,
    checks: [
      () => store.ping(),
      ...(openRedisClient ? [async () => void (await openRedisClient.ping())] : []),
    ],
    async close() {
      stopPruning?.();
      await openRedisClient?.quit().catch(() => openRedisClient.disconnect());
      await database.close();
    },
  };
}
