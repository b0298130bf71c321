import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Store } from '../accounts/storage.js';
import { envelope } from './error-mapper.js';
import { MESSAGES } from './messages.js';
import { Envelope } from './schemas.js';

const HEALTH_TIMEOUT_MS = 1000;

/** Liveness and the API's own description. */
export const opsRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: '200 when the process is up and the database answers within a second, 503 otherwise',
        response: { 200: Type.Object({ status: Type.Literal('ok') }), 503: Envelope },
      },
    },
    async (_request, reply) => {
      if (await databaseAnswers(store)) return { status: 'ok' as const };
      return reply.code(503).send(envelope(503, MESSAGES.unavailable));
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

async function databaseAnswers(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
  });
  const ping = store.ping().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
