import type { Redis } from 'ioredis';
import {
  type AttemptReservation,
  type FailureCounter,
  StoreUnavailableError,
  type ThrottleStore,
} from '../accounts/storage.js';
import type { ThrottlePolicy } from '../accounts/throttle.js';

const DAY = 24 * 60 * 60 * 1000;
const PREFIX = 'ras:throttle:';

/**
 * `reserve` of accounts/throttle.ts in Lua, so that it runs atomically in Redis: no other attempt on either key
 * reads or writes them in between, from any instance. KEYS: address, account, the account's address set. ARGV: now, knownAddressMs, ttl,
 * then each key's policy (failuresBeforeBlock, baseDelayMs, maxDelayMs, windowMs). Returns the time the
 * attempt is blocked until, or 0 when it was counted.
 */
const RESERVE_ATTEMPT = `
local now = tonumber(ARGV[1])
local function read(key)
  local h = redis.call('HMGET', key, 'failures', 'last_failure_at', 'blocked_until', 'last_success_at')
  return { tonumber(h[1] or '0'), tonumber(h[2] or '0'), tonumber(h[3] or '0'), tonumber(h[4] or '0') }
end
local address, account = read(KEYS[1]), read(KEYS[2])
local blocked = address[3]
local known = address[4] > 0 and address[4] > now - tonumber(ARGV[2])
if not known and account[3] > blocked then blocked = account[3] end
if blocked > now then return blocked end
local function count(key, c, at)
  local before, base, max, window = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local n = c[1] + 1
  if c[2] <= now - window then n = 1 end
  local untilAt = c[3]
  if n >= before then
    local delay = math.min(max, base * 2 ^ math.min(n - before, 30))
    if now + delay > untilAt then untilAt = now + delay end
  end
  redis.call('HSET', key, 'failures', n, 'last_failure_at', now, 'blocked_until', math.floor(untilAt))
  if redis.call('PTTL', key) < tonumber(ARGV[3]) then redis.call('PEXPIRE', key, ARGV[3]) end
end
count(KEYS[1], address, 4)
count(KEYS[2], account, 8)
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return 0`;

/** KEYS: the account's counter, the set of its address counters. */
const CLEAR_ACCOUNT = `
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

/** The set of an account's address counters, so that they can all be cleared. */
const addressesOf = (accountKey: string) => `${PREFIX}addresses-of:${accountKey}`;

const policyArgs = (policy: ThrottlePolicy) => [
  policy.failuresBeforeBlock,
  policy.baseDelayMs,
  policy.maxDelayMs,
  policy.windowMs,
];

/**
 * Login attempt counters in Redis hashes that expire by themselves (used when REDIS_URL is set). A Redis
 * that cannot be reached fails the attempt with `StoreUnavailableError` (503): the throttle guards
 * passwords, so it fails closed.
 */
export class RedisThrottleStore implements ThrottleStore {
  constructor(
    private readonly redis: Redis,
    /** How long a success is remembered (the throttle's known-address period). */
    private readonly rememberSuccessMs: number,
  ) {}

  async reserveAttempt(attempt: AttemptReservation): Promise<number> {
    const ttl = Math.max(attempt.address.policy.windowMs, attempt.account.policy.windowMs, DAY);
    const blockedUntil = await this.#call(() =>
      this.redis.eval(
        RESERVE_ATTEMPT,
        3,
        PREFIX + attempt.address.key,
        PREFIX + attempt.account.key,
        addressesOf(attempt.account.key),
        attempt.now,
        attempt.knownAddressMs,
        ttl,
        ...policyArgs(attempt.address.policy),
        ...policyArgs(attempt.account.policy),
      ),
    );
    return Number(blockedUntil);
  }

  async recordSuccess(keys: string[], now: number): Promise<void> {
    const transaction = this.redis.multi();
    for (const key of keys) {
      transaction
        .hset(PREFIX + key, { failures: 0, blocked_until: 0, last_success_at: now })
        .pexpire(PREFIX + key, this.rememberSuccessMs);
    }
    await this.#call(() => transaction.exec());
  }

  async clearAccount(accountKey: string): Promise<void> {
    await this.#call(() => this.redis.eval(CLEAR_ACCOUNT, 2, PREFIX + accountKey, addressesOf(accountKey)));
  }

  async readCounters(keys: string[]): Promise<Map<string, FailureCounter>> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetall(PREFIX + key);
    const results = (await this.#call(() => pipeline.exec())) ?? [];
    const counters = new Map<string, FailureCounter>();
    results.forEach(([error, value], i) => {
      if (error) throw new StoreUnavailableError(error);
      const hash = value as Record<string, string>;
      const key = keys[i];
      if (key === undefined || Object.keys(hash).length === 0) return;
      counters.set(key, {
        failures: Number(hash.failures ?? 0),
        lastFailureAt: Number(hash.last_failure_at ?? 0),
        blockedUntil: Number(hash.blocked_until ?? 0),
        lastSuccessAt: hash.last_success_at ? Number(hash.last_success_at) : null,
      });
    });
    return counters;
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
