import { type Kysely, PostgresAdapter, type Selectable } from 'kysely';
import {
  type CheckedCredentials,
  EmailTakenError,
  type NewUser,
  type UserRecord,
  type UserSearch,
  type UserStore,
} from '../accounts/storage.js';
import { isUniqueViolation } from './database-errors.js';
import type { Tables, UsersTable } from './schema.js';

export function toUserRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    isActive: row.is_active === 1,
    dateJoined: row.date_joined,
    credentialsVersion: row.credentials_version,
    emailVerified: row.email_verified === 1,
    passwordChangedAt: row.password_changed_at,
    mfaEnabled: row.mfa_enabled === 1,
    lastLogin: row.last_login,
  };
}

export class KyselyUserStore implements UserStore {
  readonly #postgres: boolean;

  constructor(private readonly db: Kysely<Tables>) {
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async insertUser(user: NewUser): Promise<number | undefined> {
    // ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed statement
    // would abort the surrounding transaction.
    const row = await this.db
      .insertInto('users')
      .values({
        email: user.email,
        password_hash: user.passwordHash,
        is_active: 1,
        date_joined: user.dateJoined,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row && toUserRecord(row);
  }

  async findUserById(id: number): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUserRecord(row);
  }

  async foreignHashes(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('password_hash', 'not like', '$argon2id$%')
      .where('password_hash', 'not like', '!%')
      .limit(limit)
      .execute();
    return rows.map((row) => row.password_hash);
  }

  async upgradePasswordHash(checked: CheckedCredentials, passwordHash: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', checked.userId)
      .where('credentials_version', '=', checked.credentialsVersion)
      .execute();
  }

  async changePasswordHash(
    checked: { userId: number; credentialsVersion?: number },
    passwordHash: string,
    now: number,
  ): Promise<number | undefined> {
    const row = await this.db
      .updateTable('users')
      .set((eb) => ({
        password_hash: passwordHash,
        password_changed_at: now,
        credentials_version: eb('credentials_version', '+', 1),
      }))
      .where('id', '=', checked.userId)
      .$if(checked.credentialsVersion !== undefined, (query) =>
        query.where('credentials_version', '=', checked.credentialsVersion!),
      )
      .returning('credentials_version')
      .executeTakeFirst();
    return row?.credentials_version;
  }

  async setEmailVerified(userId: number, credentialsVersion?: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ email_verified: 1 })
      .where('id', '=', userId)
      .$if(credentialsVersion !== undefined, (query) =>
        query.where('credentials_version', '=', credentialsVersion!),
      )
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async changeEmail(userId: number, email: string, credentialsVersion: number): Promise<boolean> {
    try {
      const result = await this.db
        .updateTable('users')
        .set((eb) => ({ email, email_verified: 1, credentials_version: eb('credentials_version', '+', 1) }))
        .where('id', '=', userId)
        .where('credentials_version', '=', credentialsVersion)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    } catch (error) {
      // Two confirmations of one new address at once: the second waits for the first and then violates the
      // unique index. An answer, not a fault (on PostgreSQL the transaction is aborted: the caller rolls back).
      if (isUniqueViolation(error)) throw new EmailTakenError(error);
      throw error;
    }
  }

  async deleteUser(userId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async lockUser(userId: number): Promise<void> {
    if (!this.#postgres) return;
    await this.db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
  }

  async setUserActive(userId: number, active: boolean): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set((eb) => ({ is_active: active ? 1 : 0, credentials_version: eb('credentials_version', '+', 1) }))
      .where('id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async searchUsers(search: UserSearch): Promise<UserRecord[]> {
    let query = this.db.selectFrom('users').selectAll();
    if (search.email !== undefined) query = query.where('email', '=', search.email);
    if (search.emailPrefix !== undefined) {
      const prefix = search.emailPrefix;
      // PostgreSQL: LIKE on the text_pattern_ops index (its default collation cannot range-scan a prefix);
      // SQLite: a range on the unique email index (binary collation; its LIKE ignores case and the index).
      query = this.#postgres
        ? query.where('email', 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
        : query.where('email', '>=', prefix).where('email', '<', `${prefix}\u{10FFFF}`);
    }
    if (search.after !== undefined) query = query.where('id', '>', search.after);
    const rows = await query.orderBy('id').limit(search.limit).execute();
    return rows.map(toUserRecord);
  }

  async clearEmailVerified(userId: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ email_verified: 0 })
      .where('id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordLogin(userId: number, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login: now }).where('id', '=', userId).execute();
  }
}
