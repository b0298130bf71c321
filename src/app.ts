import cluster from 'node:cluster';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { AccountsContext } from './accounts/context.js';
import type { Config } from './config.js';
import type { PasswordHasher } from './crypto/passwords.js';
import { accountRoutes } from './http/account.routes.js';
import { lifecycleRoutes } from './http/lifecycle.routes.js';
import { recoveryRoutes } from './http/recovery.routes.js';
import { answerClientError } from './http/client-errors.js';
import { envelope, sendAnswer, toHttpAnswer } from './http/error-mapper.js';
import { MESSAGES } from './http/messages.js';
import { LENIENT } from './http/schemas.js';
import { methodNotAllowed } from './http/method-not-allowed.js';
import { opsRoutes } from './http/ops.routes.js';
import { registerAccountPage } from './http/account-page.js';
import { registerOpenApi } from './http/openapi.js';
import { registerRateLimits, routeLimits } from './http/rate-limits.js';
import { sessionsRoutes } from './http/sessions.routes.js';
import { eventsRoutes } from './http/events.routes.js';
import { secondFactorLoginRoutes, secondFactorRoutes } from './http/second-factor.routes.js';
import { signupLoginRoutes, userRoutes } from './http/users.routes.js';
import { passkeyLoginRoutes, passkeyRoutes } from './http/passkeys.routes.js';
import { ownAccountScope } from './http/auth-guard.js';
import { openServices, type Services } from './services.js';
import type { WebhookDeliverer } from './webhooks/deliverer.js';
import { buildAdminApp } from './http/admin/admin-app.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The accounts context: storage, hasher (with its queue gauges), throttle. For metrics and tests. */
    accounts: AccountsContext;
    /** The admin listener's app (ADMIN_PORT set), not listening yet: server.ts listens, tests inject. */
    adminApp: FastifyInstance | null;
    /** The webhook deliverer (for tests that wait for it or move its clock). */
    webhookDeliverer: WebhookDeliverer | undefined;
  }
}

export interface AppOptions {
  /** The clock, for tests that move time; defaults to Date.now. */
  now?: () => number;
  /** Log destination override (tests capture logs); defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  /** The hasher, for tests that pause it between a check and a write; defaults to one built from config. */
  passwords?: PasswordHasher;
  /** How often the mail deliverer looks at the outbox besides its wake-ups (tests shorten it). */
  mailPollMs?: number;
  /** How often the webhook deliverer looks at its queue besides its wake-ups (tests shorten it). */
  webhookPollMs?: number;
}

const CONNECTION_TIMEOUT_MS = 5_000;

/**
 * Builds Ras without listening: opens the services (database migrated, Redis when configured), registers
 * plugins and routes. `server.ts` listens; tests call this and use `inject()`. Closing the app closes both.
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config, options)).withTypeProvider<TypeBoxTypeProvider>();
  const services = await openServices(config, {
    now: options.now,
    passwords: options.passwords,
    mailPollMs: options.mailPollMs,
    webhookPollMs: options.webhookPollMs,
    background: app.log,
  });
  const { ctx, redis } = services;
  // Node's default is 60 s; a client gets as long for its headers as Fastify gives it for the connection.
  app.server.headersTimeout = CONNECTION_TIMEOUT_MS;
  // Node enforces headersTimeout and requestTimeout only when it sweeps its connections, every 30 s by
  // default: a client trickling headers then lasted ~25 s instead of 5. Sweeping each second keeps them true.
  (app.server as typeof app.server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    1000;
  app.decorate('accounts', ctx);
  app.decorate('webhookDeliverer', services.webhooks);
  const adminApp = config.admin
    ? await buildAdminApp(ctx, { log: app.log, bodyLimit: config.bodyLimit, trustProxy: config.trustProxy })
    : null;
  app.decorate('adminApp', adminApp);
  // Declared up front so every request object keeps one shape (V8 hidden class) on the hot path.
  app.decorateRequest('auth', undefined);
  app.decorateRequest('authAttempt', undefined);
  const metrics = config.metrics ? await startMetrics(app, services, config.metrics) : null;
  app.addHook('onClose', async () => {
    metrics?.close();
    await adminApp?.close();
    await services.close();
  });

  await registerPlugins(app, config);
  if (config.rateLimit) await registerRateLimits(app, ctx, config.rateLimit, redis);
  registerAnswers(app);
  const notAllowed = methodNotAllowed(app, { corsEnabled: config.corsOrigins.length > 0 });
  const limits = routeLimits(config.rateLimit);
  await app.register(signupLoginRoutes, { ctx, limits });
  await app.register(recoveryRoutes, { ctx, limits });
  await app.register(secondFactorLoginRoutes, { ctx, limits });
  await app.register(passkeyLoginRoutes, { ctx, limits });
  await app.register(async (scope) => {
    ownAccountScope(scope, ctx);
    await scope.register(userRoutes, { ctx });
    await scope.register(sessionsRoutes, { ctx });
    await scope.register(eventsRoutes, { ctx });
    await scope.register(secondFactorRoutes, { ctx, limits });
    await scope.register(passkeyRoutes, { ctx });
    await scope.register(accountRoutes, { ctx, limits });
    await scope.register(lifecycleRoutes, { ctx, limits });
  });
  await app.register(opsRoutes, { checks: services.checks });
  await registerAccountPage(app);
  notAllowed.register();
  return app;
}

/** Loaded only when METRICS_PORT is set: prom-client alone adds ~13 MB to a process that never uses it. */
async function startMetrics(
  app: FastifyInstance,
  services: Services,
  { host, port }: { host: string; port: number },
) {
  const { ctx, database, deliverer, webhooks } = services;
  const { listenMetrics, registerMetrics, reportToPrimary } = await import('./http/metrics.js');
  const mail = deliverer
    ? {
        get sent() {
          return deliverer.sent;
        },
        get failed() {
          return deliverer.failed;
        },
        backlog: () => ctx.store.outbox.backlog(ctx.now()),
      }
    : null;
  const events = webhooks
    ? {
        get written() {
          return services.eventsWritten;
        },
        get sent() {
          return webhooks.sent;
        },
        get failed() {
          return webhooks.failed;
        },
        get disabled() {
          return webhooks.disabled;
        },
        backlog: () => ctx.store.webhooks.backlog(ctx.now()),
      }
    : null;
  const registry = registerMetrics(app, ctx, () => database.poolUse(), mail, events);
  // A worker of WORKERS > 1: the primary listens and asks every worker at each scrape.
  if (cluster.isWorker) {
    reportToPrimary(registry);
    return null;
  }
  return listenMetrics(registry, host, port);
}

function serverOptions(config: Config, options: AppOptions): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.auth_token'],
        censor: '[redacted]',
      },
      serializers: {
        // The path only: a client that puts a token in the query string must not get it logged.
        req: (req: { method: string; url: string; ip?: string; id: string }) => ({
          method: req.method,
          path: req.url.split('?')[0],
          ip: req.ip,
        }),
      },
    },
    // Per-request lines cost more than the authenticated read they describe; security events are logged
    // regardless (see http/security-log.ts). ACCESS_LOG=on brings Fastify's request lines back.
    logController: new LogController({ disableRequestLogging: !config.accessLog }),
    // A pino child per request (to bind its id) costs about a fifth of the authenticated read. Without the
    // access log, requests share the root logger and the lines Ras writes carry `reqId` themselves.
    ...(config.accessLog ? {} : { childLoggerFactory: (logger) => logger }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    // Unique across the workers of one port (Fastify's default counts from 1 in each process).
    genReqId: requestIds(),
    bodyLimit: config.bodyLimit,
    // The mark of a field the handler validates itself (schemas.ts, LenientString): known, so strict mode
    // accepts it; it validates nothing.
    ajv: { customOptions: { keywords: [LENIENT] } },
    trustProxy: config.trustProxy,
    // Slow clients cannot pin sockets: a whole request must arrive within 10 s, headers within 5 s.
    requestTimeout: 10_000,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: 5_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
  };
}

async function registerPlugins(app: FastifyInstance, config: Config): Promise<void> {
  // Only JSON and forms: the original DRF service parsed both; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
  }
  await registerOpenApi(app, config.publicUrl);
}

/** Bodies over the limit up to this size are read to their end and dropped, so their sender gets the 413. */
const DRAINED_BODY_MAX = 16 * 1024 * 1024;

/**
 * Fastify closes the connection after a 413 while the client is still sending; closing a socket with unread
 * data makes the kernel send a reset, which can destroy the 413 before the client reads it. For a declared
 * length up to DRAINED_BODY_MAX the connection stays open instead, and Node reads the rest of the body and
 * discards it (what nginx's lingering close achieves); larger or undeclared bodies still close at once.
 */
function keepReadingTooLargeBody(request: FastifyRequest, reply: FastifyReply): void {
  const length = Number(request.headers['content-length']);
  if (Number.isSafeInteger(length) && length <= DRAINED_BODY_MAX) reply.removeHeader('connection');
}

function requestIds(): () => string {
  const prefix = `${process.pid.toString(36)}-`;
  let next = 0;
  return () => prefix + (next++).toString(36);
}

/** Headers every answer carries, and the contract's envelope for every error and unknown route. */
function registerAnswers(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff');
    // By the route matched, not the raw URL (`GET http://host/api/…` is routed like `/api/…`); an unknown
    // path may be an /api one too.
    const route = request.routeOptions.url;
    if (route === undefined || route.startsWith('/api/')) reply.header('cache-control', 'no-store');
    // No route will read the body of an unknown path: answer before it is parsed (or even read).
    if (request.is404) {
      reply.code(404).send(envelope(404, MESSAGES.routeNotFound));
      return;
    }
    done();
  });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = toHttpAnswer(error);
    if (answer.status === 413) keepReadingTooLargeBody(request, reply);
    if (answer.status === 500 || answer.log)
      request.log.error({ err: error, reqId: request.id }, 'request failed');
    return sendAnswer(reply, answer);
  });

  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send(envelope(404, MESSAGES.routeNotFound)),
  );
}
