import { type Kysely, PostgresAdapter } from 'kysely';
import type { MailKind, MailRequest, OutboxStore, QueuedMail } from '../accounts/storage.js';
import type { Tables } from './schema.js';

/**
 * The mail outbox (`mail_outbox`): requests written with the change they report, made into mails and sent
 * after the answer, retried. No row ever holds a mail's text, so none holds a live link.
 */
export class KyselyOutboxStore implements OutboxStore {
  readonly #postgres: boolean;

  /** `queued` is told of each request that wants delivery right after its commit (see store.ts). */
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly queued: (request: MailRequest) => void = () => undefined,
  ) {
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async enqueue(mail: MailRequest, now: number): Promise<void> {
    await this.db
      .insertInto('mail_outbox')
      .values({
        user_id: mail.userId,
        kind: mail.kind,
        to_address: mail.to,
        credentials_version: mail.credentialsVersion,
        outcome: null,
        created_at: now,
        next_attempt_at: now,
      })
      .execute();
    this.queued(mail);
  }

  async countSince(userId: number, kind: MailKind, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('created_at', '>=', since)
      .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '!=', 'skipped')]))
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
    return rows
      .sort((a, b) => a.id - b.id)
      .map((row) => ({
        id: row.id,
        userId: row.user_id,
        kind: row.kind as MailKind,
        to: row.to_address,
        credentialsVersion: row.credentials_version,
        createdAt: row.created_at,
        attempts: row.attempts,
      }));
  }

  async resolveTo(id: number, userId: number): Promise<void> {
    await this.db.updateTable('mail_outbox').set({ user_id: userId }).where('id', '=', id).execute();
  }

  async markSent(id: number, now: number): Promise<void> {
    await this.#finish(id, now, 'sent');
  }

  async markSkipped(id: number, now: number): Promise<void> {
    await this.#finish(id, now, 'skipped');
  }

  async #finish(id: number, now: number, outcome: 'sent' | 'skipped'): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ sent_at: now, outcome, last_error: null })
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

  async pruneFinished(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('mail_outbox')
      .where((eb) => eb.or([eb('sent_at', '<', before), eb('failed_at', '<', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
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
