/**
 * The outbox deliverer, one per process. Mails are written to `mail_outbox` in the transaction of the change
 * they report; this sends them after the answer: woken after each commit, and every POLL_MS for the rest.
 * A claimed mail is hidden from other deliverers for LEASE_MS (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so
 * several instances send each mail once, and a deliverer killed mid-way leaves its mails due again. A failed
 * send is retried with exponential backoff (5 s doubling, at most an hour apart) for 24 hours, then marked
 * failed and logged. An SMTP outage therefore delays mail and never slows or fails a request.
 */
import type { OutboxStore, QueuedMail } from '../accounts/storage.js';

const POLL_MS = 5_000;
const LEASE_MS = 60_000;
const BATCH = 20;
const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const MAX_BACKOFF_MS = 60 * 60 * 1000;

export interface MailTransport {
  send(mail: QueuedMail): Promise<void>;
  close(): void;
}

export interface DeliveryLog {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 5_000 * 2 ** Math.min(attempts - 1, 20));
}

export class MailDeliverer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  /** Mails sent and given up, since start (metrics). */
  sent = 0;
  failed = 0;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly transport: MailTransport,
    private readonly now: () => number,
    private readonly log: DeliveryLog,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.wake(), POLL_MS);
    this.#timer.unref();
    this.wake();
  }

  /** Delivers what is due now (after the current round, if one is running). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#deliverDue()
      .catch((error: unknown) => this.log.warn({ err: error }, 'mail delivery round failed; retrying later'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Resolves once the round in progress (if any) has finished; no new round starts. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
    this.transport.close();
  }

  async #deliverDue(): Promise<void> {
    for (;;) {
      const mails = await this.outbox.claimDue(this.now(), LEASE_MS, BATCH);
      if (mails.length === 0) return;
      for (const mail of mails) await this.#deliver(mail);
      if (this.#stopped) return;
    }
  }

  async #deliver(mail: QueuedMail): Promise<void> {
    try {
      await this.transport.send(mail);
      await this.outbox.markSent(mail.id, this.now());
      this.sent++;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const now = this.now();
      if (now - mail.createdAt >= GIVE_UP_AFTER_MS) {
        await this.outbox.markFailed(mail.id, now, reason);
        this.failed++;
        this.log.error(
          { mailId: mail.id, kind: mail.kind, attempts: mail.attempts, reason },
          'mail given up',
        );
        return;
      }
      await this.outbox.retryAt(mail.id, now + backoffMs(mail.attempts), reason);
      this.log.warn(
        { mailId: mail.id, kind: mail.kind, attempts: mail.attempts, reason },
        'mail not sent; will retry',
      );
    }
  }
}
