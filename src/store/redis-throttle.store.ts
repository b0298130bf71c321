import type { Redis } from 'ioredis';
import type { FailureCounter, ThrottleStore } from '../accounts/storage.js';

const DAY = 24 * 60 * 60 * 1000;
const PREFIX = 'ras:throttle:';

// Each script runs atomically in Redis, so concurrent failures from several instances count exactly.
const RECORD_FAILURE = `
local last = tonumber(redis.call('HGET', KEYS[1], 'last_failure_at') or '0')
local n
if last <= tonumber(ARGV[1]) - tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'failures', 1)
  n = 1
else
  n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
end
redis.call('HSET', KEYS[1], 'last_failure_at', ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return n`;

const BLOCK_UNTIL = `
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if current < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'blocked_until', ARGV[1]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

/** Login failure counters in Redis hashes that expire by themselves (used when REDIS_URL is set). */
export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: Redis,
    /** How long a success is remembered (the throttle's known-address period). */
    private readonly rememberSuccessMs: number,
  ) {}

  async readCounters(keys: string[]): Promise<Map<string, FailureCounter>> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetall(PREFIX + key);
    const results = (await pipeline.exec()) ?? [];
    const counters = new Map<string, FailureCounter>();
    results.forEach(([error, value], i) => {
      if (error) throw error;
      const hash = value as Record<string, string>;
      const key = keys[i];
      if (key === undefined || Object.keys(hash).length === 0) return;
      counters.set(key, {
        failures: Number(hash.failures ?? 0),
        blockedUntil: Number(hash.blocked_until ?? 0),
        lastSuccessAt: hash.last_success_at ? Number(hash.last_success_at) : null,
      });
    });
    return counters;
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<number> {
    const ttl = Math.max(windowMs, DAY);
    return Number(await this.redis.eval(RECORD_FAILURE, 1, PREFIX + key, now, windowMs, ttl));
  }

  async blockUntil(key: string, until: number): Promise<void> {
    await this.redis.eval(BLOCK_UNTIL, 1, PREFIX + key, until, DAY);
  }

  async recordSuccess(key: string, now: number): Promise<void> {
    await this.redis
      .multi()
      .hset(PREFIX + key, { failures: 0, blocked_until: 0, last_success_at: now })
      .pexpire(PREFIX + key, this.rememberSuccessMs)
      .exec();
  }
}
