import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AccountsContext } from '../../accounts/context.js';
import { AccountError } from '../../accounts/errors.js';
import { VERSION } from '../../version.js';
import { envelope, type HttpAnswer, sendAnswer, toHttpAnswer } from '../error-mapper.js';
import { MESSAGES, SEED } from '../messages.js';
import { LENIENT } from '../schemas.js';
import { requireAdminKeys } from './admin-auth.js';
import { adminRoutes } from './users.routes.js';

/**
 * The operator's API on its own listener (ADMIN_HOST:ADMIN_PORT): `/admin/v1/…` only, its own OpenAPI document
 * (`/admin/v1/openapi.json`) and docs page (`/admin/v1/docs`); the public listener serves none of it. Same
 * process, same services, same envelopes; an invalid email is 400 here (the seed's 401 is for signup only)
 * and a taken one 409.
 */
export async function buildAdminApp(
  ctx: AccountsContext,
  options: { log: FastifyBaseLogger; bodyLimit: number; trustProxy: boolean | string[] },
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log.child({ listener: 'admin' }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: { customOptions: { keywords: [LENIENT] } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    if (request.is404) await reply.code(404).send(envelope(404, MESSAGES.routeNotFound));
  });
  app.setErrorHandler(async (error, request, reply) => {
    const answer = adminAnswer(error);
    if (answer.status >= 500) request.log.error({ err: error, reqId: request.id }, 'admin request failed');
    return sendAnswer(reply, answer);
  });
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send(envelope(404, MESSAGES.routeNotFound)),
  );
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ras admin API',
        version: VERSION,
        description: "The operator's API: users, sessions, events.",
      },
      servers: [{ url: '/', description: 'The admin listener' }],
      components: {
        securitySchemes: {
          adminKey: { type: 'http', scheme: 'bearer', description: 'An admin key (`ras admin-keys create`)' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/admin/v1/docs', theme: { title: 'Ras admin API' } });
  app.get('/admin/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  requireAdminKeys(app, ctx);
  await app.register(adminRoutes, { ctx });
  return app;
}

function adminAnswer(error: unknown): HttpAnswer {
  if (error instanceof AccountError && error.code === 'email_invalid')
    return { status: 400, body: envelope(400, SEED.emailInvalid) };
  if (error instanceof AccountError && error.code === 'email_taken')
    return { status: 409, body: envelope(409, SEED.emailTaken) };
  return toHttpAnswer(error);
}
