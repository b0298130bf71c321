import type { Kysely } from 'kysely';
import type { ActiveSession, NewSession, SessionRecord, SessionStore } from '../accounts/storage.js';
import type { Tables } from './schema.js';
import { SessionLookup } from './session-lookup.js';

export class KyselySessionStore implements SessionStore {
  #lookup: SessionLookup | undefined;

  constructor(private readonly db: Kysely<Tables>) {}

  async createSession(session: NewSession): Promise<number> {
    const row = await this.db
      .insertInto('sessions')
      .values({
        user_id: session.userId,
        token_hash: session.tokenHash,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        last_seen_at: session.createdAt,
        user_agent: session.userAgent,
        ip: session.ip,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The authenticated read, batched per turn of the event loop (see session-lookup.ts). */
  findActiveSessionByTokenHash(tokenHash: string, now: number): Promise<ActiveSession | undefined> {
    this.#lookup ??= new SessionLookup(this.db);
    return this.#lookup.find(tokenHash, now);
  }

  async deleteSessionByTokenHash(tokenHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteSessionOfUser(userId: number, sessionId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteSessionsOfUser(userId: number, exceptSessionId?: number): Promise<number> {
    let query = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteExpiredSessionsOfUser(userId: number, now: number): Promise<void> {
    await this.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where('expires_at', '<=', now)
      .execute();
  }

  async listActiveSessionsOfUser(userId: number, now: number): Promise<SessionRecord[]> {
    return this.db
      .selectFrom('sessions')
      .select([
        'id',
        'created_at as createdAt',
        'expires_at as expiresAt',
        'last_seen_at as lastSeenAt',
        'user_agent as userAgent',
        'ip',
      ])
      .where('user_id', '=', userId)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  async touchSession(sessionId: number, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', sessionId).execute();
  }
}
