import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * A second factor (issue 25). `users.mfa_enabled` is read with the user at login, so an account without a
 * factor costs no extra query. `mfa_totp` holds the account's TOTP secret sealed with MFA_KEY and the last time
 * step used (a code is accepted once); `mfa_recovery_codes` the SHA-256 of each unused recovery code;
 * `mfa_challenges` the pending second steps of logins (`ras_mfa_…` tokens, stored as hashes) with their count of
 * codes tried.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres ? 'bigserial' : 'integer';
  await db.schema
    .alterTable('users')
    .addColumn('mfa_enabled', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('mfa_totp')
    .ifNotExists()
    .addColumn('user_id', 'bigint', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    // Null until the owner confirms a code: nothing is active before.
    .addColumn('confirmed_at', 'bigint')
    .addColumn('last_step', 'bigint')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('mfa_recovery_codes')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('user_id', 'bigint', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'char(64)', (col) => col.notNull().unique())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('mfa_recovery_codes_user_idx')
    .ifNotExists()
    .on('mfa_recovery_codes')
    .column('user_id')
    .execute();
  await db.schema
    .createTable('mfa_challenges')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('token_hash', 'char(64)', (col) => col.notNull().unique())
    .addColumn('user_id', 'bigint', (col) => col.notNull().references('users.id').onDelete('cascade'))
    // The credentials version the password was checked under: the session opens only if it still holds.
    .addColumn('credentials_version', 'integer', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('mfa_challenges_user_idx')
    .ifNotExists()
    .on('mfa_challenges')
    .column('user_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('mfa_challenges').ifExists().execute();
  await db.schema.dropTable('mfa_recovery_codes').ifExists().execute();
  await db.schema.dropTable('mfa_totp').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('mfa_enabled').execute();
}
