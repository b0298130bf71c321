import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccountsContext } from '../accounts/context.js';
import type { WebhookBacklog } from '../accounts/storage.js';

export interface PoolGauge {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The event-loop monitor's sampling interval. Its readings are the time between two samples, so they include
 * this interval: an idle loop reads about 10 ms, and the loop's own delay is a reading minus 10 ms.
 */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * Prometheus metrics (prom-client) on their own listener, so nothing internal is reachable on the API port.
 * Off unless METRICS_PORT is set; when off, no hook is added and the request path pays nothing.
 *
 * - ras_http_requests_total / ras_http_request_duration_seconds, by route pattern, method and status
 * - ras_login_outcomes_total{outcome}: by the login's status: success (200), invalid (400), unverified (403),
 *   deactivated (404), refused (429), error (any other: 413, 415, 503, 500)
 * - ras_argon2_queued / ras_argon2_running: hashes waiting for and holding a slot
 * - ras_db_pool_connections{state}: PostgreSQL pool use (total, idle, waiting)
 * - ras_mail_sent_total, ras_mail_failed_total (this process), ras_mail_queued and
 *   ras_mail_oldest_queued_seconds (the shared outbox): with SMTP_URL set
 * - ras_events_written_total, ras_webhook_deliveries_sent_total, ras_webhook_deliveries_failed_total,
 *   ras_webhook_endpoints_disabled_total (this process), ras_webhook_queued{endpoint} and
 *   ras_webhook_oldest_queued_seconds{endpoint} (the shared queue)
 * - nodejs_* / process_*: prom-client's defaults, event-loop delay percentiles among them (reset each scrape)
 *
 * With WORKERS > 1 the workers only collect; the cluster's primary serves the listener and each scrape asks
 * every worker (prom-client's AggregatorRegistry): counters and per-process gauges are summed, the shared
 * outbox's gauges are read once.
 */
/** The outbox, as metrics read it: what this process delivered, and what waits in the shared table. */
export interface MailGauge {
  sent: number;
  failed: number;
  backlog(): Promise<{ queued: number; oldestAgeMs: number }>;
}

/** Events and their webhooks, as metrics read them: this process's counters, and the shared queue. */
export interface EventsGauge {
  written: number;
  sent: number;
  failed: number;
  disabled: number;
  backlog(): Promise<WebhookBacklog[]>;
}

export function registerMetrics(
  app: FastifyInstance,
  ctx: AccountsContext,
  pool: () => PoolGauge | null,
  mail: MailGauge | null = null,
  events: EventsGauge | null = null,
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });

  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'ras_http_requests_total',
    help: 'HTTP requests answered',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ras_http_request_duration_seconds',
    help: 'Time to answer, from the first byte of the request',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const logins = new Counter({
    name: 'ras_login_outcomes_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'ras_argon2_queued',
    help: 'Password hashes waiting for a slot',
    registers: [registry],
    collect() {
      this.set(ctx.passwords.queued);
    },
  });
  new Gauge({
    name: 'ras_argon2_running',
    help: 'Password hashes being computed',
    registers: [registry],
    collect() {
      this.set(ctx.passwords.running);
    },
  });
  new Gauge({
    name: 'ras_db_pool_connections',
    help: 'PostgreSQL pool connections by state (absent on SQLite)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const use = pool();
      if (!use) return;
      for (const state of ['total', 'idle', 'waiting'] as const) this.set({ state }, use[state]);
    },
  });

  if (mail) registerMailMetrics(registry, mail);
  if (events) registerEventMetrics(registry, events);

  const LOGIN_OUTCOMES: Record<number, string> = {
    200: 'success',
    400: 'invalid',
    403: 'unverified',
    404: 'deactivated',
    429: 'refused',
  };
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unknown',
      method: request.method,
      status: reply.statusCode,
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    if (labels.route === '/api/v1/users/login/')
      logins.inc({ outcome: LOGIN_OUTCOMES[reply.statusCode] ?? 'error' });
  });
  return registry;
}

/** In a cluster worker: answer the primary's scrapes with this registry instead of listening. */
export function reportToPrimary(registry: Registry): void {
  new AggregatorRegistry(); // its constructor installs the worker's answering listener
  AggregatorRegistry.setRegistries([registry]);
}

/** In the cluster's primary: serve every worker's metrics, aggregated, on host:port. */
export function listenClusterMetrics(host: string, port: number): Promise<Server> {
  const aggregator = new AggregatorRegistry();
  return listenMetrics(
    { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType },
    host,
    port,
  );
}

interface MetricsSource {
  metrics(): Promise<string>;
  contentType: string;
}

/** Serves `GET /metrics` from the registry on host:port; returns the server so app.close() can stop it. */
export async function listenMetrics(registry: MetricsSource, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

function registerEventMetrics(registry: Registry, events: EventsGauge): void {
  const counters = [
    ['ras_events_written_total', 'Events this process wrote since it started', () => events.written],
    [
      'ras_webhook_deliveries_sent_total',
      'Webhook deliveries this process sent (2xx) since it started',
      () => events.sent,
    ],
    [
      'ras_webhook_deliveries_failed_total',
      'Webhook deliveries this process gave up on (about 27 h of retries) since it started',
      () => events.failed,
    ],
    [
      'ras_webhook_endpoints_disabled_total',
      'Webhook endpoints this process disabled after 3 days of failures since it started',
      () => events.disabled,
    ],
  ] as const;
  for (const [name, help, read] of counters)
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const perEndpoint = [
    [
      'ras_webhook_queued',
      'Deliveries waiting, per endpoint, every instance counted',
      (e: WebhookBacklog) => e.queued,
    ],
    [
      'ras_webhook_oldest_queued_seconds',
      'Age of the oldest delivery waiting, per endpoint (0 when none)',
      (e: WebhookBacklog) => (e.queued === 0 ? 0 : e.oldestAgeMs / 1000),
    ],
  ] as const;
  for (const [name, help, read] of perEndpoint)
    new Gauge({
      name,
      help,
      labelNames: ['endpoint'],
      registers: [registry],
      aggregator: 'max', // every worker reads the same table
      async collect() {
        const backlog = await events.backlog().catch(() => []);
        this.reset();
        for (const endpoint of backlog) this.set({ endpoint: String(endpoint.endpointId) }, read(endpoint));
      },
    });
}

function registerMailMetrics(registry: Registry, mail: MailGauge): void {
  new Gauge({
    name: 'ras_mail_sent_total',
    help: 'Mails this process delivered since it started',
    registers: [registry],
    collect() {
      this.set(mail.sent);
    },
  });
  new Gauge({
    name: 'ras_mail_failed_total',
    help: 'Mails this process gave up on (24 h of retries) since it started',
    registers: [registry],
    collect() {
      this.set(mail.failed);
    },
  });
  const oldest = new Gauge({
    name: 'ras_mail_oldest_queued_seconds',
    help: 'Age of the oldest mail waiting in the outbox (0 when none)',
    registers: [registry],
    aggregator: 'max',
  });
  new Gauge({
    name: 'ras_mail_queued',
    help: 'Mails waiting in the outbox, every instance counted',
    registers: [registry],
    aggregator: 'max', // every worker reads the same table
    async collect() {
      const backlog = await mail.backlog().catch(() => ({ queued: 0, oldestAgeMs: 0 }));
      this.set(backlog.queued);
      oldest.set(backlog.queued === 0 ? 0 : backlog.oldestAgeMs / 1000);
    },
  });
}
