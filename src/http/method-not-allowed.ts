import type { FastifyInstance, HTTPMethods } from 'fastify';
import { envelope } from './error-mapper.js';
import { MESSAGES } from './messages.js';

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Answers 405 with `Allow` for the methods a known path does not serve (Fastify alone would say 404).
 * OPTIONS is left to @fastify/cors when CORS is on, so preflight requests keep working.
 */
export function rejectOtherMethods(
  app: FastifyInstance,
  url: string,
  allowed: HTTPMethods[],
  { corsEnabled }: { corsEnabled: boolean },
): void {
  const served = new Set<HTTPMethods>(allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed);
  const rejected = ALL_METHODS.filter((m) => !served.has(m) && !(corsEnabled && m === 'OPTIONS'));
  const allow = [...served].join(', ');
  app.route({
    method: rejected,
    url,
    schema: { hide: true },
    handler: async (_request, reply) =>
      reply.code(405).header('allow', allow).send(envelope(405, MESSAGES.methodNotAllowed)),
  });
}
