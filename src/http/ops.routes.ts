import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { envelope } from './error-mapper.js';
import { MESSAGES } from './messages.js';
import { envelopeOf } from './schemas.js';
import { VERSION } from '../version.js';

const HEALTH_TIMEOUT_MS = 1000;

/** Liveness and the API's own description. */
/** Each check resolves when its dependency (database, Redis) answers. */
export type HealthCheck = () => Promise<void>;

export const opsRoutes: FastifyPluginAsyncTypebox<{ checks: HealthCheck[] }> = async (app, { checks }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary:
          '200 when the process is up and the database (and Redis, when configured) answer within a second; 503 otherwise',
        response: {
          200: Type.Object({ status: Type.Literal('ok') }, { title: 'Health', examples: [{ status: 'ok' }] }),
          503: envelopeOf('The database or Redis does not answer', MESSAGES.unavailable),
        },
      },
    },
    async (_request, reply) => {
      if (await allAnswer(checks)) return { status: 'ok' as const };
      return reply.code(503).send(envelope(503, MESSAGES.unavailable));
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Where a newcomer who opens the server's address in a browser finds the documentation.
  app.get('/', { schema: { hide: true } }, async () => ({
    name: 'Ras accounts API',
    version: VERSION,
    docs: '/docs',
    openapi: '/openapi.json',
  }));
};

async function allAnswer(checks: HealthCheck[]): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
  });
  const ping = Promise.all(checks.map((check) => check())).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
