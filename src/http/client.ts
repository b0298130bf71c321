import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../accounts/context.js';

/** The caller as the session list will show it. `request.ip` honours TRUST_PROXY, nothing else. */
export function clientOf(request: FastifyRequest): ClientInfo {
  return { ip: request.ip || null, userAgent: request.headers['user-agent'] ?? null };
}
