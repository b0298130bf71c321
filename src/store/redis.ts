import type { Redis } from 'ioredis';

/**
 * A Redis connection for shared rate limits and login counters. Commands fail fast when Redis is away (one
 * retry, 1 s to connect) instead of queueing: a login must answer 503 quickly, not hang.
 */
export async function openRedis(url: string): Promise<Redis> {
  // Loaded only when REDIS_URL is set: the client alone adds ~20 MB to a process that never uses it.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 1000, enableAutoPipelining: true });
  // Connection errors surface on the commands that fail; an unhandled 'error' event would only add noise.
  redis.on('error', () => undefined);
  return redis;
}
