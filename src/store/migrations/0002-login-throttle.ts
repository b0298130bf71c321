import type { Kysely } from 'kysely';

/** Failed-login counters, shared by every instance (see accounts/throttle.ts). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    .ifNotExists()
    .addColumn('key', 'varchar(400)', (col) => col.primaryKey())
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_failure_at', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('blocked_until', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('last_success_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_throttle').ifExists().execute();
}
