import type { Kysely } from 'kysely';
import type {
  AccountTokenKind,
  AccountTokenStore,
  ConsumedToken,
  NewAccountToken,
} from '../accounts/storage.js';
import type { Tables } from './schema.js';

/** Single-use account tokens (reset, verification, email change) in `account_tokens`, by hash only. */
export class KyselyTokenStore implements AccountTokenStore {
  constructor(private readonly db: Kysely<Tables>) {}

  async replaceToken(token: NewAccountToken): Promise<void> {
    await this.db
      .deleteFrom('account_tokens')
      .where('user_id', '=', token.userId)
      .where('kind', '=', token.kind)
      .execute();
    await this.db
      .insertInto('account_tokens')
      .values({
        user_id: token.userId,
        kind: token.kind,
        token_hash: token.tokenHash,
        new_email: token.newEmail,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
      })
      .execute();
  }

  async findToken(
    tokenHash: string,
    kinds: AccountTokenKind[],
    now: number,
  ): Promise<ConsumedToken | undefined> {
    const row = await this.db
      .selectFrom('account_tokens')
      .select(['user_id', 'kind', 'new_email'])
      .where('token_hash', '=', tokenHash)
      .where('kind', 'in', kinds)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row && { userId: row.user_id, kind: row.kind as AccountTokenKind, newEmail: row.new_email };
  }

  async consumeToken(
    tokenHash: string,
    kinds: AccountTokenKind[],
    now: number,
  ): Promise<ConsumedToken | undefined> {
    // One DELETE … RETURNING: the database gives the row to exactly one of concurrent callers.
    const row = await this.db
      .deleteFrom('account_tokens')
      .where('token_hash', '=', tokenHash)
      .where('kind', 'in', kinds)
      .where('expires_at', '>', now)
      .returning(['user_id', 'kind', 'new_email'])
      .executeTakeFirst();
    return row && { userId: row.user_id, kind: row.kind as AccountTokenKind, newEmail: row.new_email };
  }
}
