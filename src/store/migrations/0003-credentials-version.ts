import type { Kysely } from 'kysely';

/**
 * `users.credentials_version`: raised by every password change or reset and every deactivation or activation.
 * A session is opened only for the version its password was checked against (see sessions.store.ts), so a
 * login that raced one of those changes cannot outlive it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('credentials_version', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('credentials_version').execute();
}
