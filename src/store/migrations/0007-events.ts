import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Events and webhooks (issue 24). `events` is the audit log: one row per account change, written in the
 * transaction of the change, kept EVENTS_RETENTION_DAYS. It outlives the account (no foreign key: a
 * `user.deleted` event must stay). `webhook_endpoints` holds each target with its signing secret sealed;
 * `webhook_deliveries` is the queue: one row per event and matching endpoint, written with the event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = postgres ? 'bigserial' : 'integer';
  await db.schema
    .createTable('events')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    // `evt_` and 128 random bits: the id receivers see (`webhook-id`), unique across databases and restores.
    .addColumn('uid', 'varchar(40)', (col) => col.notNull().unique())
    .addColumn('type', 'varchar(40)', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('user_id', 'bigint')
    .addColumn('actor_type', 'varchar(16)', (col) => col.notNull())
    .addColumn('actor_name', 'varchar(100)')
    .addColumn('ip', 'varchar(64)')
    .addColumn('user_agent', 'varchar(512)')
    .addColumn('data', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('events_user_idx')
    .ifNotExists()
    .on('events')
    .columns(['user_id', 'id'])
    .execute();
  await db.schema.createIndex('events_type_idx').ifNotExists().on('events').columns(['type', 'id']).execute();
  await db.schema.createIndex('events_created_idx').ifNotExists().on('events').column('created_at').execute();

  await db.schema
    .createTable('webhook_endpoints')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('url', 'varchar(2048)', (col) => col.notNull())
    // Comma-separated patterns: `*`, an event type, or a prefix ending in `.*`.
    .addColumn('events', 'varchar(1000)', (col) => col.notNull())
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    // Since when every delivery has failed (null while the last one succeeded).
    .addColumn('failing_since', 'bigint')
    .addColumn('disabled_at', 'bigint')
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .ifNotExists()
    .addColumn('id', id, (col) => (postgres ? col.primaryKey() : col.primaryKey().autoIncrement()))
    .addColumn('endpoint_id', 'bigint', (col) =>
      col.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    .addColumn('event_id', 'bigint', (col) => col.notNull().references('events.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('next_attempt_at', 'bigint', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('delivered_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due_idx')
    .ifNotExists()
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'delivered_at', 'failed_at', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_event_idx')
    .ifNotExists()
    .on('webhook_deliveries')
    .column('event_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').ifExists().execute();
  await db.schema.dropTable('webhook_endpoints').ifExists().execute();
  await db.schema.dropTable('events').ifExists().execute();
}
