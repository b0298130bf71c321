import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * The operator's API (issue 26): admin keys (named, scoped, stored as SHA-256, revocable), the time of each
 * account's last login, and an index for prefix search on the stored (lower-cased) email. SQLite's unique index
 * on `email` already serves prefix ranges (binary collation); PostgreSQL's default collation cannot, so a
 * `text_pattern_ops` index serves `LIKE 'prefix%'` there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('admin_keys')
    .ifNotExists()
    .addColumn('id', postgres ? 'bigserial' : 'integer', (col) =>
      postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('name', 'varchar(100)', (col) => col.notNull().unique())
    .addColumn('key_hash', 'char(64)', (col) => col.notNull().unique())
    .addColumn('scopes', 'varchar(200)', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.alterTable('users').addColumn('last_login', 'bigint').execute();
  if (postgres)
    await sql`create index if not exists users_email_prefix_idx on users (email text_pattern_ops)`.execute(
      db,
    );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists users_email_prefix_idx`.execute(db);
  await db.schema.alterTable('users').dropColumn('last_login').execute();
  await db.schema.dropTable('admin_keys').ifExists().execute();
}
