import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Passkeys (issue 27). `passkeys` holds each registered credential: its id and COSE public key (base64url; a
 * public key opens nothing), the signature counter last seen, the transports the browser reported. Each
 * `webauthn_challenges` row is one outstanding ceremony: the challenge's SHA-256, what it is for (`register`,
 * `login` for passwordless, `mfa` for the second step of a password login, bound to that login's `ras_mfa_…`
 * token), the account when known, and when it expires. A challenge is deleted by the statement that uses it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres ? 'bigserial' : 'integer';
  await db.schema
    .createTable('passkeys')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('user_id', 'bigint', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('credential_id', 'varchar(1400)', (col) => col.notNull().unique())
    .addColumn('public_key', 'text', (col) => col.notNull())
    .addColumn('counter', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('transports', 'varchar(200)', (col) => col.notNull().defaultTo(''))
    .addColumn('name', 'varchar(100)', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('passkeys_user_idx').ifNotExists().on('passkeys').column('user_id').execute();
  await db.schema
    .createTable('webauthn_challenges')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('challenge_hash', 'char(64)', (col) => col.notNull().unique())
    .addColumn('purpose', 'varchar(16)', (col) => col.notNull())
    .addColumn('user_id', 'bigint', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('mfa_token_hash', 'char(64)')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('webauthn_challenges_expiry_idx')
    .ifNotExists()
    .on('webauthn_challenges')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').ifExists().execute();
  await db.schema.dropTable('passkeys').ifExists().execute();
}
