import type { Kysely, Selectable } from 'kysely';
import type {
  NewPasskey,
  PasskeyRecord,
  PasskeyStore,
  WebAuthnChallenge,
  WebAuthnPurpose,
} from '../accounts/storage.js';
import type { PasskeysTable, Tables } from './schema.js';

/** Passkeys and outstanding WebAuthn challenges: each single-use rule is one statement. */
export class KyselyPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Kysely<Tables>) {}

  async add(passkey: NewPasskey): Promise<number | undefined> {
    const row = await this.db
      .insertInto('passkeys')
      .values({
        user_id: passkey.userId,
        credential_id: passkey.credentialId,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: passkey.transports.join(','),
        name: passkey.name,
        created_at: passkey.createdAt,
        last_used_at: null,
      })
      // A conflict is an answer, not an error that would abort a PostgreSQL transaction.
      .onConflict((oc) => oc.column('credential_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  async listOfUser(userId: number): Promise<PasskeyRecord[]> {
    const rows = await this.db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async countOfUser(userId: number): Promise<number> {
    const row = await this.db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async findByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    const row = await this.db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async remove(userId: number, id: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('passkeys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async removeAllOfUser(userId: number): Promise<number> {
    const result = await this.db.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recordUse(id: number, checkedCounter: number, newCounter: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('passkeys')
      .set({ counter: newCounter, last_used_at: now })
      .where('id', '=', id)
      .where('counter', '=', checkedCounter)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async saveChallenge(
    challenge: WebAuthnChallenge & { challengeHash: string; now: number; expiresAt: number },
  ): Promise<void> {
    // Expired challenges go with each new one: the table holds only ceremonies still in progress.
    await this.db.deleteFrom('webauthn_challenges').where('expires_at', '<=', challenge.now).execute();
    await this.db
      .insertInto('webauthn_challenges')
      .values({
        challenge_hash: challenge.challengeHash,
        purpose: challenge.purpose,
        user_id: challenge.userId,
        mfa_token_hash: challenge.mfaTokenHash,
        created_at: challenge.now,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async consumeChallenge(
    challengeHash: string,
    purpose: WebAuthnPurpose,
    now: number,
  ): Promise<WebAuthnChallenge | undefined> {
    // One DELETE … RETURNING: the database gives the row to exactly one of concurrent callers.
    const row = await this.db
      .deleteFrom('webauthn_challenges')
      .where('challenge_hash', '=', challengeHash)
      .where('purpose', '=', purpose)
      .where('expires_at', '>', now)
      .returning(['purpose', 'user_id', 'mfa_token_hash'])
      .executeTakeFirst();
    return (
      row && {
        purpose: row.purpose as WebAuthnPurpose,
        userId: row.user_id,
        mfaTokenHash: row.mfa_token_hash,
      }
    );
  }
}

function toRecord(row: Selectable<PasskeysTable>): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: row.transports ? row.transports.split(',') : [],
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
