import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientInfo } from '../accounts/context.js';

/**
 * The caller as the session list will show it, and a signal that fires if it goes away before its answer
 * (hashing it still waits for is then dropped). `request.ip` honours TRUST_PROXY, nothing else.
 */
export function clientOf(request: FastifyRequest, reply: FastifyReply): ClientInfo {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort();
  });
  return { ip: request.ip || null, userAgent: request.headers['user-agent'] ?? null, signal: gone.signal };
}
