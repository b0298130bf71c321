/**
 * The webhook deliverer, one per server process. Each event is queued for each matching endpoint in the
 * transaction that writes it (accounts/events.ts); this sends the queue after the commit, in the Standard
 * Webhooks format: `webhook-id` is the event's id (the same on every retry, so receivers can drop duplicates),
 * `webhook-timestamp` the time of the attempt, `webhook-signature` `v1,<HMAC-SHA256>` with the endpoint's
 * `whsec_…` secret (signed by the `standardwebhooks` package).
 *
 * - Each endpoint has its own lane: at most PER_ENDPOINT deliveries in flight, so a slow or dead endpoint holds
 *   its own lane and never another's.
 * - A claimed delivery is hidden from other instances for LEASE_MS (PostgreSQL: `FOR UPDATE SKIP LOCKED`): several
 *   instances deliver each once, and one killed mid-way leaves its deliveries due again after the lease.
 * - A non-2xx answer, no answer within 10 s, or a refused address is retried on RETRY_SCHEDULE_MS (with ±20 %
 *   jitter: about 27 hours in all), then given up. An endpoint failing for DISABLE_AFTER_MS (3 days) is
 *   disabled, with an error log line and a metric; `ras webhooks enable` turns it back on.
 * - Also the keeper of the log: events older than EVENTS_RETENTION_DAYS are pruned (not while a delivery of
 *   theirs waits), and finished deliveries after a week.
 */
import { Webhook } from 'standardwebhooks';
import { eventView } from '../accounts/events.js';
import type { ClaimedDelivery, EventStore, WebhookStore } from '../accounts/storage.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { Rounds } from '../background/rounds.js';
import { SEND_TIMEOUT_MS, sendWebhook, type SendOutcome } from './send.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const POLL_MS = 5_000;
export const PER_ENDPOINT = 4;
/** Longer than an attempt can take, so a live deliverer never sees its own delivery taken over. */
export const LEASE_MS = SEND_TIMEOUT_MS + 5 * SECOND;
/** The wait after each failed attempt (the schedule Standard Webhooks suggests); then the delivery is given up. */
export const RETRY_SCHEDULE_MS = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];
export const DISABLE_AFTER_MS = 72 * HOUR;
const DELIVERIES_KEPT_MS = 7 * 24 * HOUR;
const PRUNE_EVERY_MS = HOUR;

export interface WebhookLog {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface WebhookDelivererOptions {
  webhooks: WebhookStore;
  events: EventStore;
  /** Opens the endpoints' sealed secrets; null without MFA_KEY (deliveries then wait, with a log line). */
  box: SecretBox | null;
  /** The clock of the queue (when attempts are due); signatures carry the wall clock, as receivers check it. */
  now: () => number;
  log: WebhookLog;
  allowPrivate: boolean;
  eventsRetentionMs: number;
  pollMs?: number;
  /** Jitter source, [0, 1): tests pin it. */
  random?: () => number;
}

/** The wait after the `attempts`-th failed attempt, jittered ±20 %; undefined when it is time to give up. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number | undefined {
  const base = RETRY_SCHEDULE_MS[attempts - 1];
  return base === undefined ? undefined : Math.round(base * (0.8 + 0.4 * random()));
}

/** The body a receiver gets: the Standard Webhooks shape, with the event as `data`. */
export function webhookBody(delivery: ClaimedDelivery): string {
  const event = eventView(delivery.event);
  return JSON.stringify({ type: event.type, timestamp: event.created_at, data: event });
}

export class WebhookDeliverer {
  readonly #rounds: Rounds;
  #lastPrune = -Infinity;
  /** Deliveries in flight, by endpoint. */
  readonly #inFlight = new Map<number, Set<Promise<void>>>();
  /** Counters since start (metrics). */
  sent = 0;
  failed = 0;
  disabled = 0;

  constructor(private readonly options: WebhookDelivererOptions) {
    this.#rounds = new Rounds(
      () => this.#dispatch(),
      (error) => options.log.warn({ err: error }, 'webhook round failed; retrying later'),
      options.pollMs ?? POLL_MS,
    );
  }

  start(): void {
    this.#rounds.start();
  }

  /** Looks for due deliveries now (after the current round, if one is running). */
  wake(): void {
    this.#rounds.wake();
  }

  /** Resolves when no round runs and no delivery is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#rounds.idle();
      const pending = this.#pending();
      if (pending.length === 0 && !this.#rounds.busy) return;
      await Promise.all(pending);
    }
  }

  /** Stops looking for work and waits for the deliveries in flight (each ends within 10 s). */
  async stop(): Promise<void> {
    await this.#rounds.stop();
    await Promise.all(this.#pending());
  }

  #pending(): Promise<void>[] {
    return [...this.#inFlight.values()].flatMap((lane) => [...lane]);
  }

  /** One round: fill each due endpoint's free lane slots with claimed deliveries, started, not awaited. */
  async #dispatch(): Promise<void> {
    const { webhooks, now } = this.options;
    for (const endpointId of await webhooks.dueEndpoints(now())) {
      const free = PER_ENDPOINT - (this.#inFlight.get(endpointId)?.size ?? 0);
      if (free <= 0 || this.#rounds.stopped) continue;
      for (const delivery of await webhooks.claimDue(endpointId, now(), LEASE_MS, free))
        this.#start(delivery);
    }
    await this.#prune();
  }

  /** Starts a delivery in its endpoint's lane; when it ends, the lane has room and a round looks again. */
  #start(delivery: ClaimedDelivery): void {
    const lane = this.#inFlight.get(delivery.endpointId) ?? new Set<Promise<void>>();
    this.#inFlight.set(delivery.endpointId, lane);
    const attempt: Promise<void> = this.#deliver(delivery)
      .catch((error: unknown) =>
        this.options.log.warn({ err: error, deliveryId: delivery.id }, 'webhook delivery bookkeeping failed'),
      )
      .finally(() => {
        lane.delete(attempt);
        if (lane.size === 0 && this.#inFlight.get(delivery.endpointId) === lane)
          this.#inFlight.delete(delivery.endpointId);
        this.wake();
      });
    lane.add(attempt);
  }

  async #deliver(delivery: ClaimedDelivery): Promise<void> {
    const { webhooks, now, log } = this.options;
    const outcome = await this.#send(delivery);
    if (outcome.ok) {
      await webhooks.markDelivered(delivery, now());
      this.sent++;
      return;
    }
    const fields = {
      endpointId: delivery.endpointId,
      eventId: delivery.event.uid,
      attempts: delivery.attempts,
      reason: outcome.reason,
    };
    const delay = retryDelayMs(delivery.attempts, this.options.random);
    const failingSince =
      delay === undefined
        ? await webhooks.markFailed(delivery, now(), outcome.reason)
        : await webhooks.retryAt(delivery, now() + delay, now(), outcome.reason);
    if (delay === undefined) {
      this.failed++;
      log.error(fields, 'webhook delivery given up');
    } else log.warn(fields, 'webhook not delivered; will retry');
    if (now() - failingSince >= DISABLE_AFTER_MS) {
      await webhooks.disableEndpoint(delivery.endpointId, now());
      this.disabled++;
      log.error(
        { endpointId: delivery.endpointId, url: delivery.url, failingSinceMs: failingSince },
        'webhook endpoint disabled after 3 days of failures; `ras webhooks enable` turns it back on',
      );
    }
  }

  #send(delivery: ClaimedDelivery): Promise<SendOutcome> {
    const { box, allowPrivate } = this.options;
    if (!box)
      return Promise.resolve({
        ok: false,
        reason: 'MFA_KEY is not set: the signing secret cannot be opened',
      });
    let signature: string;
    const body = webhookBody(delivery);
    const sentAt = new Date();
    try {
      signature = new Webhook(box.open(delivery.secretSealed, 'webhook')).sign(
        delivery.event.uid,
        sentAt,
        body,
      );
    } catch (error) {
      return Promise.resolve({ ok: false, reason: (error as Error).message });
    }
    return sendWebhook(
      delivery.url,
      body,
      {
        'webhook-id': delivery.event.uid,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      allowPrivate,
    );
  }

  async #prune(): Promise<void> {
    const { webhooks, events, now, eventsRetentionMs } = this.options;
    if (now() - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now();
    await webhooks.pruneFinished(now() - DELIVERIES_KEPT_MS);
    await events.prune(now() - eventsRetentionMs);
  }
}
