import type { ExpressionBuilder, Kysely } from 'kysely';
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
        credentials_version: token.credentialsVersion,
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
      .select(['user_id', 'kind', 'new_email', 'credentials_version'])
      .where((eb) => live(eb, tokenHash, kinds, now))
      .executeTakeFirst();
    return row && toConsumed(row);
  }

  async consumeToken(
    tokenHash: string,
    kinds: AccountTokenKind[],
    now: number,
  ): Promise<ConsumedToken | undefined> {
    // One DELETE … RETURNING: the database gives the row to exactly one of concurrent callers.
    const row = await this.db
      .deleteFrom('account_tokens')
      .where((eb) => live(eb, tokenHash, kinds, now))
      .returning(['user_id', 'kind', 'new_email', 'credentials_version'])
      .executeTakeFirst();
    return row && toConsumed(row);
  }
}

/** The token of this hash, unexpired, and issued under the account's current credentials version. */
function live(eb: ExpressionBuilder<Tables, 'account_tokens'>, hash: string, kinds: string[], now: number) {
  return eb.and([
    eb('account_tokens.token_hash', '=', hash),
    eb('account_tokens.kind', 'in', kinds),
    eb('account_tokens.expires_at', '>', now),
    eb(
      'account_tokens.credentials_version',
      '=',
      eb
        .selectFrom('users')
        .select('users.credentials_version')
        .whereRef('users.id', '=', 'account_tokens.user_id'),
    ),
  ]);
}

function toConsumed(row: {
  user_id: number;
  kind: string;
  new_email: string | null;
  credentials_version: number;
}): ConsumedToken {
  return {
    userId: row.user_id,
    kind: row.kind as AccountTokenKind,
    newEmail: row.new_email,
    credentialsVersion: row.credentials_version,
  };
}
