import type { FastifyRequest } from 'fastify';
import { AccountError } from '../accounts/errors.js';

/**
 * Runs an attempt and logs a refusal as a security event (`<event>.failure` with the error code: never a
 * password, token or email), then rethrows it for the error mapper.
 */
export async function logRefusal<T>(
  request: FastifyRequest,
  event: string,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof AccountError) {
      request.log.info(
        { event: `${event}.failure`, reason: error.code, userId: request.auth?.session.userId },
        `${event} refused`,
      );
    }
    throw error;
  }
}
