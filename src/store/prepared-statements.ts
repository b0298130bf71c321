import { createHash } from 'node:crypto';
import type { CompiledQuery, PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** SQL texts that run on (nearly) every request, prepared once per PostgreSQL connection. */
const PREPARED = new Map<string, string>();

/**
 * Marks a compiled query to run as a named prepared statement on PostgreSQL: each connection parses and plans
 * it once, then only binds and executes it (unnamed, as pg sends every other query, PostgreSQL parses and plans
 * it on every execution, CPU that on a shared machine the server itself needs). SQLite's dialect keeps every
 * statement prepared already (sqlite-dialect.ts). Keep it to the few queries of the hot path: each one is a
 * statement held by every connection of the pool.
 */
export function preparedOnPostgres<R>(query: CompiledQuery<R>): CompiledQuery<R> {
  if (!PREPARED.has(query.sql))
    PREPARED.set(query.sql, `ras_${createHash('sha256').update(query.sql).digest('hex').slice(0, 24)}`);
  return query;
}

/**
 * The pool Kysely's PostgresDialect draws from: pg's own, whose clients send the marked queries by name. The
 * name is derived from the text, so one name never stands for two statements.
 */
export class PreparingPool implements PostgresPool {
  readonly #clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  constructor(private readonly pool: pg.Pool) {}

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let wrapper = this.#clients.get(client);
    if (!wrapper) this.#clients.set(client, (wrapper = preparing(client)));
    return wrapper;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** A client for Kysely (which calls `query(sql, parameters)` and `release()`; no cursors are configured). */
function preparing(client: pg.PoolClient): PostgresPoolClient {
  async function query(sql: string, parameters: readonly unknown[]) {
    const name = PREPARED.get(sql);
    const values = [...parameters];
    return name ? client.query({ name, text: sql, values }) : client.query(sql, values);
  }
  return { query, release: () => client.release() } as unknown as PostgresPoolClient;
}
