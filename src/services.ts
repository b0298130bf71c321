import type { Redis } from 'ioredis';
import type { AccountsContext } from './accounts/context.js';
import { KNOWN_ADDRESS_MS, LoginThrottle } from './accounts/throttle.js';
import type { Mailer } from './accounts/mail.js';
import { prepareMail } from './accounts/mail-requests.js';
import { measureForeignHashes, REMEASURE_MS } from './accounts/login-time.js';
import type { Config, LinkConfig, MailConfig } from './config.js';
import { MailDeliverer } from './mail/deliverer.js';
import { loadTemplates } from './mail/templates.js';
import { openTransport } from './mail/transport.js';
import { PasswordHasher } from './crypto/passwords.js';
import { SecretBox } from './crypto/secret-box.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { type Database, openDatabase } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { openRedis } from './store/redis.js';
import { RedisThrottleStore } from './store/redis-throttle.store.js';
import { KyselyStore } from './store/store.js';
import { SqlThrottleStore } from './store/throttle.store.js';

export interface ServiceLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Everything an entry point (server, cluster primary, CLI, import) works with, opened in one place. */
export interface Services {
  ctx: AccountsContext;
  database: Database;
  /** The Redis connection with REDIS_URL (the per-address rate limits share it), else null. */
  redis: Redis | null;
  /** The outbox deliverer of a server with mail configured (its counters feed the metrics). */
  deliverer?: MailDeliverer;
  /** The webhook deliverer of a server (also the pruner of old events). */
  webhooks?: WebhookDeliverer;
  /** Events this process wrote (committed) since it started. */
  readonly eventsWritten: number;
  /** Each resolves when its dependency (the database with its schema, Redis) answers. */
  checks: (() => Promise<void>)[];
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** The clock, for tests that move time; defaults to Date.now. */
  now?: () => number;
  /** The hasher, for tests that pause it; defaults to one built from config. */
  passwords?: PasswordHasher;
  /**
   * Run the background work of a server (mail delivery, pruning old throttle counters), logging here. The CLI
   * does not: mails it queues are delivered by the servers.
   */
  background?: ServiceLog;
  /** PostgreSQL connections, when this entry point needs fewer than DATABASE_POOL_MAX. */
  poolMax?: number;
  /** How often the mail deliverer looks at the outbox besides its wake-ups (tests shorten it). */
  mailPollMs?: number;
  /** How often the webhook deliverer looks at its queue besides its wake-ups (tests shorten it). */
  webhookPollMs?: number;
}

/**
 * Opens the database (migrating it to the latest schema), Redis when configured, and the accounts context
 * over them. `close()` undoes all of it.
 */
export async function openServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const database = await openDatabase(config.database, {
    poolMax: options.poolMax ?? config.databasePoolMax,
  });
  let redis: Redis | null = null;
  try {
    await migrateToLatest(database.db);
    redis = config.redisUrl ? await openRedis(config.redisUrl) : null;
  } catch (error) {
    await database.close();
    throw error;
  }
  const now = options.now ?? Date.now;
  const sqlThrottle = new SqlThrottleStore(database.db);
  let deliverer: MailDeliverer | undefined;
  let webhooks: WebhookDeliverer | undefined;
  let eventsWritten = 0;
  const store = new KyselyStore(database.db, {
    mailQueued: () => deliverer?.wake(),
    webhooksQueued: () => webhooks?.wake(),
    eventsWritten: (count) => (eventsWritten += count),
  });
  const secrets = config.secretKeys ? new SecretBox(config.secretKeys.current, config.secretKeys.old) : null;
  const background = options.background;
  const ctx: AccountsContext = {
    store,
    passwords: options.passwords ?? new PasswordHasher(config.argon2Concurrency, config.argon2QueueMax),
    throttle: new LoginThrottle(redis ? new RedisThrottleStore(redis, KNOWN_ADDRESS_MS) : sqlThrottle, now),
    now,
    sessionTtlMs: config.sessionTtlMs,
    sessionsMax: config.sessionsMax,
    mail: config.mail ? mailer(config.mail, config.links) : null,
    requireVerifiedEmail: config.requireVerifiedEmail,
    secrets,
    appName: config.appName,
    relyingParty: { id: config.webauthn.rpId, origins: config.webauthn.origins },
  };
  if (config.mail && background) {
    deliverer = new MailDeliverer({
      outbox: store.outbox,
      prepare: (request) => prepareMail(ctx, request),
      transport: await openTransport(config.mail, background),
      now,
      log: background,
      pollMs: options.mailPollMs,
    });
  }
  if (config.mail?.smtpUrl === 'log:' && background)
    background.warn({}, 'SMTP_URL=log: mails are written to this log, never sent: for development only');
  deliverer?.start();
  if (background) {
    webhooks = new WebhookDeliverer({
      webhooks: store.webhooks,
      events: store.events,
      box: secrets,
      now,
      log: background,
      allowPrivate: config.webhookAllowPrivate,
      eventsRetentionMs: config.eventsRetentionMs,
      pollMs: options.webhookPollMs,
    });
    webhooks.start();
  }
  // A wrong password must take as long on a native account as on the slowest imported one.
  const stopMeasuring = background ? startMeasuringHashes(ctx, background) : undefined;
  // Redis expires its counters by itself; the database's are pruned.
  const stopPruning =
    background && !redis
      ? sqlThrottle.startPruning(now, KNOWN_ADDRESS_MS, (error) =>
          background.warn({ err: error }, 'pruning login throttle counters failed'),
        )
      : undefined;
  const openRedisClient = redis;
  return {
    ctx,
    database,
    redis,
    checks: [
      () => store.ping(),
      ...(openRedisClient ? [async () => void (await openRedisClient.ping())] : []),
    ],
    deliverer,
    webhooks,
    get eventsWritten() {
      return eventsWritten;
    },
    async close() {
      stopPruning?.();
      stopMeasuring?.();
      await deliverer?.stop();
      await webhooks?.stop();
      await openRedisClient?.quit().catch(() => openRedisClient.disconnect());
      await database.close();
    },
  };
}

function startMeasuringHashes(ctx: AccountsContext, log: ServiceLog): () => void {
  const measure = () =>
    void measureForeignHashes(ctx).catch((error: unknown) =>
      log.warn({ err: error }, 'measuring the stored hashes failed; failed logins are not padded'),
    );
  measure();
  const timer = setInterval(measure, REMEASURE_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The domain's view of mail: templates with the product name, and links with their token. */
function mailer(config: MailConfig, links: LinkConfig): Mailer {
  const compose = loadTemplates(config.templatesDir);
  const withToken = (url: string | null, token: string) =>
    (url ?? '{token}').replace('{token}', encodeURIComponent(token));
  return {
    compose: (kind, email, link) =>
      compose(kind, {
        app: config.appName,
        email,
        link: link?.url,
        hours: link ? hoursOf(link.ttlMs) : undefined,
      }),
    resetLink: (token) => withToken(links.resetUrl, token),
    verifyLink: (token) => withToken(links.verifyUrl, token),
    resetTokenTtlMs: links.resetTokenTtlMs,
    verifyTokenTtlMs: links.verifyTokenTtlMs,
  };
}

function hoursOf(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.round(minutes / 60)} hours`;
}
