import { type Kysely, sql } from 'kysely';

/**
 * No live secret at rest (issue 21). The mail outbox stops storing mails: a row says what to send (kind,
 * account, address, the credentials version it was asked under) and the deliverer mints the link's token and
 * renders the mail at the moment it sends it. Queued rows from before keep working: a link mail mints a fresh
 * token at its delivery, and the bodies (with the tokens in them) are dropped here.
 *
 * Account tokens record the credentials version they were issued under: a link is honoured only while the
 * account's credentials are unchanged, so every password change, reset, email change, deactivation or deletion
 * ends every outstanding link by raising the version, with no list of deletes to forget.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['subject', 'text_body', 'html_body'])
    await db.schema.alterTable('mail_outbox').dropColumn(column).execute();
  // Null for a request not yet resolved to an account (a reset asked for an address).
  await db.schema.alterTable('mail_outbox').addColumn('credentials_version', 'integer').execute();
  // 'skipped': resolved to nothing to send (an unknown address, a limit reached, credentials changed since).
  await db.schema.alterTable('mail_outbox').addColumn('outcome', 'varchar(16)').execute();
  await sql`update mail_outbox set outcome = 'sent' where sent_at is not null`.execute(db);
  await db.schema
    .createIndex('mail_outbox_user_kind_idx')
    .ifNotExists()
    .on('mail_outbox')
    .columns(['user_id', 'kind', 'created_at'])
    .execute();

  await db.schema
    .alterTable('account_tokens')
    .addColumn('credentials_version', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await sql`update account_tokens set credentials_version =
    (select credentials_version from users where users.id = account_tokens.user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('account_tokens').dropColumn('credentials_version').execute();
  await db.schema.dropIndex('mail_outbox_user_kind_idx').ifExists().execute();
  await db.schema.alterTable('mail_outbox').dropColumn('outcome').execute();
  await db.schema.alterTable('mail_outbox').dropColumn('credentials_version').execute();
  for (const column of ['subject', 'text_body', 'html_body'])
    await db.schema
      .alterTable('mail_outbox')
      .addColumn(column, 'text', (col) => col.notNull().defaultTo(''))
      .execute();
}
