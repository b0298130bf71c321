import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 64-bit ids on PostgreSQL (issue 22): Django 3.2+ projects use `BigAutoField`, and an imported id above
 * 2^31−1 must fit. User and session ids, their sequences, and every column that refers to a user become
 * `bigint`. SQLite's INTEGER is 64-bit already: nothing to do there. Ids stay within 2^53−1 (what a JSON number
 * carries exactly); the API and the import refuse larger ones.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table users alter column id type bigint`.execute(db);
  await sql`alter table sessions alter column id type bigint, alter column user_id type bigint`.execute(db);
  await sql`alter table account_tokens alter column user_id type bigint`.execute(db);
  await sql`alter table mail_outbox alter column user_id type bigint`.execute(db);
  for (const table of ['users', 'sessions']) {
    const { rows } = await sql<{
      name: string;
    }>`select pg_get_serial_sequence(${table}, 'id') as name`.execute(db);
    await sql`alter sequence ${sql.raw(rows[0]!.name)} as bigint`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table mail_outbox alter column user_id type integer`.execute(db);
  await sql`alter table account_tokens alter column user_id type integer`.execute(db);
  await sql`alter table sessions alter column user_id type integer, alter column id type integer`.execute(db);
  await sql`alter table users alter column id type integer`.execute(db);
}
