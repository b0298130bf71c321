/**
 * The outbox deliverer, one per process. Changes write mail *requests* to `mail_outbox` in their own
 * transaction; this makes each into a mail (`prepare`: the link's token is minted now, the text rendered now)
 * and sends it after the answer: woken after each commit that asked for prompt delivery, and every `pollMs` for
 * the rest. A claimed request is hidden from other deliverers for LEASE_MS (PostgreSQL: `FOR UPDATE SKIP
 * LOCKED`), so several instances send each mail once, and a deliverer killed mid-way leaves its requests due
 * again. A failed send is retried with exponential backoff (5 s doubling, at most an hour apart) for 24 hours,
 * then marked failed and logged. An SMTP outage therefore delays mail and never slows or fails a request.
 * Finished rows are pruned after RETENTION_MS.
 */
import type { OutgoingMail, QueuedMail } from '../accounts/mail.js';
import type { OutboxStore } from '../accounts/storage.js';
import { Rounds } from '../background/rounds.js';

export const POLL_MS = 5_000;
const LEASE_MS = 60_000;
const BATCH = 20;
const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const MAX_BACKOFF_MS = 60 * 60 * 1000;
export const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export interface DeliveryLog {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface DelivererOptions {
  outbox: OutboxStore;
  /** The mail to send for a request, or undefined for none (the request is then marked skipped). */
  prepare: (request: QueuedMail) => Promise<OutgoingMail | undefined>;
  transport: MailTransport;
  now: () => number;
  log: DeliveryLog;
  /** How often the outbox is looked at besides the wake-ups (tests shorten it). */
  pollMs?: number;
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 5_000 * 2 ** Math.min(attempts - 1, 20));
}

export class MailDeliverer {
  readonly #rounds: Rounds;
  #lastPrune = -Infinity;
  /** Mails sent and given up, since start (metrics). */
  sent = 0;
  failed = 0;

  constructor(private readonly options: DelivererOptions) {
    this.#rounds = new Rounds(
      () => this.#round(),
      (error) => options.log.warn({ err: error }, 'mail delivery round failed; retrying later'),
      options.pollMs ?? POLL_MS,
    );
  }

  start(): void {
    this.#rounds.start();
  }

  /** Delivers what is due now (after the current round, if one is running). */
  wake(): void {
    this.#rounds.wake();
  }

  /** Resolves when no round is running or asked for: what was due has been dealt with. */
  idle(): Promise<void> {
    return this.#rounds.idle();
  }

  /** Resolves once the round in progress (if any) has finished; no new round starts. */
  async stop(): Promise<void> {
    await this.#rounds.stop();
    this.options.transport.close();
  }

  async #round(): Promise<void> {
    const { outbox, now } = this.options;
    for (;;) {
      const requests = await outbox.claimDue(now(), LEASE_MS, BATCH);
      if (requests.length === 0) break;
      for (const request of requests) await this.#deliver(request);
      if (this.#rounds.stopped) return;
    }
    if (now() - this.#lastPrune >= PRUNE_EVERY_MS) {
      this.#lastPrune = now();
      await outbox.pruneFinished(now() - RETENTION_MS);
    }
  }

  async #deliver(request: QueuedMail): Promise<void> {
    const { outbox, transport, now, log } = this.options;
    try {
      const mail = await this.options.prepare(request);
      if (!mail) return await outbox.markSkipped(request.id, now());
      await transport.send(mail);
      await outbox.markSent(request.id, now());
      this.sent++;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const fields = { mailId: request.id, kind: request.kind, attempts: request.attempts, reason };
      if (now() - request.createdAt >= GIVE_UP_AFTER_MS) {
        await outbox.markFailed(request.id, now(), reason);
        this.failed++;
        log.error(fields, 'mail given up');
        return;
      }
      await outbox.retryAt(request.id, now() + backoffMs(request.attempts), reason);
      log.warn(fields, 'mail not sent; will retry');
    }
  }
}
