/**
 * Kysely's SQLite dialect, adjusted where its defaults cost Ras correctness or most of its speed:
 *
 * - **FIFO connection lock.** SQLite has one connection; Kysely guards it with a mutex whose every unlock
 *   wakes all waiters, so N concurrent queries cost O(N²) wake-ups. Under 50 concurrent requests that was
 *   most of the authenticated read's time. Here the lock is handed to the next waiter in line.
 * - **Statement cache.** Kysely prepares every query anew and better-sqlite3 compiles it each time; Ras runs
 *   a few dozen distinct statements, so each compiled one is kept (bounded; SQLite re-prepares a kept
 *   statement itself if the schema changes).
 * - **BEGIN IMMEDIATE.** A transaction takes the write lock when it starts, waiting up to the busy timeout,
 *   instead of failing with SQLITE_BUSY when a read turns into a write while another process (the CLI, a
 *   worker) writes.
 * - **No ROLLBACK after SQLite's own.** On some errors (I/O, disk full) SQLite rolls back by itself; Kysely's
 *   ROLLBACK then fails with "no transaction is active" and hides the real error, so a read-only disk looked
 *   like a bug (500) instead of an outage (503).
 */
import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase as KyselySqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 200;

function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/** A lock that hands itself to the oldest waiter: one wake-up per release. */
class FifoLock {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  async acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}

class RasSqliteDriver extends SqliteDriver {
  readonly #lock = new FifoLock();
  #connection: DatabaseConnection | undefined;

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: withStatementCache(sqlite) });
  }

  override async init(): Promise<void> {
    await super.init();
    // Take the one connection from Kysely's own mutex for good; the FIFO lock orders its use from here on.
    this.#connection = await super.acquireConnection();
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection!;
  }

  override async releaseConnection(): Promise<void> {
    this.#lock.release();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.sqlite.inTransaction) await super.rollbackTransaction(connection);
  }
}

export class RasSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    return new RasSqliteDriver(this.sqlite);
  }
}
