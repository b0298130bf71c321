import type { Redis } from 'ioredis';

/**
 * A Redis connection for shared rate limits and login counters. Commands fail at once while Redis is away
 * (no offline queue) and after 500 ms when it hangs, instead of waiting for a reconnection: a login must
 * answer 503 within a second, not hang. The client keeps reconnecting in the background.
 */
export async function openRedis(url: string): Promise<Redis> {
  // Loaded only when REDIS_URL is set: the client alone adds ~20 MB to a process that never uses it.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 1000,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Connection errors surface on the commands that fail; an unhandled 'error' event would only add noise.
  redis.on('error', () => undefined);
  // Without an offline queue, commands sent before the first connection would fail: wait for it, but start
  // anyway when Redis is down (requests that need it answer 503 until it is back).
  await redis.connect().catch(() => undefined);
  return redis;
}
