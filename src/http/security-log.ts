import type { FastifyRequest } from 'fastify';
import { AccountError } from '../accounts/errors.js';

/**
 * One structured log line per security event (OWASP ASVS V16): the event name, the client address, the user
 * id when known, and the request id that pino adds. Never a password, token or email; pino writes JSON, so a
 * CR or LF in any value is escaped and cannot forge a line.
 */
export function securityEvent(
  request: FastifyRequest,
  event: string,
  fields: Record<string, unknown> = {},
): void {
  // With ACCESS_LOG=on the request's logger is a child that already carries `reqId`; without it, the root.
  const reqId = request.log === request.server.log ? { reqId: request.id } : {};
  request.log.info(
    { ...reqId, event, ip: request.ip, userId: request.auth?.session.userId, ...fields },
    event,
  );
}

/** Runs an attempt; a refusal is logged (`<event>.failure` with its code, or `throttle`) and rethrown. */
export async function logRefusal<T>(
  request: FastifyRequest,
  event: string,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof AccountError) {
      if (error.code === 'throttled' || error.code === 'attempts_in_progress')
        securityEvent(request, 'throttle', {
          on: event,
          inProgress: error.code === 'attempts_in_progress',
          retryAfter: error.retryAfterSeconds,
          userId: error.userId ?? request.auth?.session.userId,
        });
      else
        securityEvent(request, `${event}.failure`, {
          reason: error.code,
          // Which password rule failed, or why a stored hash was not computed (its parameters are out of bounds).
          ...(error.reason ? { detail: error.reason } : {}),
          userId: error.userId ?? request.auth?.session.userId,
        });
    }
    throw error;
  }
}
