import { type Kysely, PostgresAdapter } from 'kysely';
import type { OutboxStore, OutgoingMail, QueuedMail } from '../accounts/storage.js';
import type { Tables } from './schema.js';

/** The mail outbox (`mail_outbox`): written with the change a mail reports, delivered after, retried. */
export class KyselyOutboxStore implements OutboxStore {
  readonly #postgres: boolean;

  constructor(private readonly db: Kysely<Tables>) {
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async enqueue(mail: OutgoingMail, now: number): Promise<void> {
    await this.db
      .insertInto('mail_outbox')
      .values({
        user_id: mail.userId,
        kind: mail.kind,
        to_address: mail.to,
        subject: mail.subject,
        text_body: mail.text,
        html_body: mail.html,
        created_at: now,
        next_attempt_at: now,
      })
      .execute();
  }

  async countSince(userId: number, kind: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async dropUnsentOf(userId: number): Promise<void> {
    await this.db
      .deleteFrom('mail_outbox')
      .where('user_id', '=', userId)
      .where('sent_at', 'is', null)
      .execute();
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<QueuedMail[]> {
    const due = this.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .$if(this.#postgres, (query) => query.forUpdate().skipLocked());
    // One UPDATE … RETURNING: a row is claimed by one deliverer, which pushes its next attempt past the lease.
    const rows = await this.db
      .updateTable('mail_outbox')
      .set((eb) => ({ next_attempt_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', due)
      .returningAll()
      .execute();
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      kind: row.kind,
      to: row.to_address,
      subject: row.subject,
      text: row.text_body,
      html: row.html_body,
      createdAt: row.created_at,
      attempts: row.attempts,
    }));
  }

  async markSent(id: number, now: number): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ sent_at: now, last_error: null })
      .where('id', '=', id)
      .execute();
  }

  async retryAt(id: number, at: number, error: string): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ next_attempt_at: at, last_error: error.slice(0, 500) })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: number, now: number, error: string): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ failed_at: now, last_error: error.slice(0, 500) })
      .where('id', '=', id)
      .execute();
  }

  async backlog(now: number): Promise<{ queued: number; oldestAgeMs: number }> {
    const row = await this.db
      .selectFrom('mail_outbox')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('created_at').as('oldest')])
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirst();
    const oldest = row?.oldest === null || row?.oldest === undefined ? now : Number(row.oldest);
    return { queued: Number(row?.n ?? 0), oldestAgeMs: now - oldest };
  }
}
