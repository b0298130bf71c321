import type { Kysely } from 'kysely';
import type { MfaChallenge, SecondFactorStore } from '../accounts/storage.js';
import type { Tables } from './schema.js';

/** TOTP secrets, recovery codes and login challenges: each rule that must hold under concurrency is one statement. */
export class KyselySecondFactorStore implements SecondFactorStore {
  constructor(private readonly db: Kysely<Tables>) {}

  async putPendingTotp(userId: number, secretSealed: string, now: number): Promise<boolean> {
    await this.db
      .deleteFrom('mfa_totp')
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .execute();
    const row = await this.db
      .insertInto('mfa_totp')
      .values({
        user_id: userId,
        secret_sealed: secretSealed,
        confirmed_at: null,
        last_step: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async findTotp(userId: number): Promise<{ secretSealed: string; confirmed: boolean } | undefined> {
    const row = await this.db
      .selectFrom('mfa_totp')
      .select(['secret_sealed', 'confirmed_at'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { secretSealed: row.secret_sealed, confirmed: row.confirmed_at !== null };
  }

  async useTotpStep(userId: number, step: number, now: number, confirm: boolean): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_totp')
      .set(confirm ? { last_step: step, confirmed_at: now } : { last_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', confirm ? 'is' : 'is not', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setMfaEnabled(userId: number, enabled: boolean): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ mfa_enabled: enabled ? 1 : 0 })
      .where('id', '=', userId)
      .execute();
  }

  async replaceRecoveryCodes(userId: number, codeHashes: string[], now: number): Promise<void> {
    await this.db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
    await this.db
      .insertInto('mfa_recovery_codes')
      .values(codeHashes.map((codeHash) => ({ user_id: userId, code_hash: codeHash, created_at: now })))
      .execute();
  }

  async useRecoveryCode(userId: number, codeHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('mfa_recovery_codes')
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async countRecoveryCodes(userId: number): Promise<number> {
    const row = await this.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async removeSecondFactor(userId: number): Promise<boolean> {
    const removed = await this.db.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst();
    await this.db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
    await this.db.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute();
    return removed.numDeletedRows > 0n;
  }

  async openChallenge(challenge: {
    tokenHash: string;
    userId: number;
    credentialsVersion: number;
    now: number;
    expiresAt: number;
  }): Promise<void> {
    // Expired challenges of the account go with each new one: the table holds only live logins.
    await this.db
      .deleteFrom('mfa_challenges')
      .where('user_id', '=', challenge.userId)
      .where('expires_at', '<=', challenge.now)
      .execute();
    await this.db
      .insertInto('mfa_challenges')
      .values({
        token_hash: challenge.tokenHash,
        user_id: challenge.userId,
        credentials_version: challenge.credentialsVersion,
        created_at: challenge.now,
        expires_at: challenge.expiresAt,
      })
      .execute();
  }

  async reserveChallengeAttempt(
    tokenHash: string,
    now: number,
    maxAttempts: number,
  ): Promise<MfaChallenge | undefined> {
    const row = await this.db
      .updateTable('mfa_challenges')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', now)
      .where('attempts', '<', maxAttempts)
      .returning(['user_id', 'credentials_version'])
      .executeTakeFirst();
    return row && { userId: Number(row.user_id), credentialsVersion: row.credentials_version };
  }

  async findLiveChallenge(
    tokenHash: string,
    now: number,
    maxAttempts: number,
  ): Promise<MfaChallenge | undefined> {
    const row = await this.db
      .selectFrom('mfa_challenges')
      .select(['user_id', 'credentials_version'])
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', now)
      .where('attempts', '<', maxAttempts)
      .executeTakeFirst();
    return row && { userId: Number(row.user_id), credentialsVersion: row.credentials_version };
  }

  async consumeChallenge(tokenHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('mfa_challenges')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
