import { type Kysely, PostgresAdapter, type Selectable, sql, type Transaction } from 'kysely';
import { type AttemptReservation, type FailureCounter, type ThrottleStore } from '../accounts/storage.js';
import { reserve } from '../accounts/throttle.js';
import type { LoginThrottleTable, Tables } from './schema.js';

const DAY = 24 * 60 * 60 * 1000;
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

function toCounter(row: Selectable<LoginThrottleTable>): FailureCounter {
  return {
    failures: row.failures,
    lastFailureAt: row.last_failure_at,
    blockedUntil: row.blocked_until,
    lastSuccessAt: row.last_success_at,
  };
}

/**
 * Login attempt counters in the `login_throttle` table, one row per key. An attempt is reserved in one
 * transaction that holds both rows: on PostgreSQL they are created if missing and locked (`FOR UPDATE`, in key
 * order, so two attempts never wait on each other crosswise); on SQLite the transaction holds the write lock
 * from its start (BEGIN IMMEDIATE).
 *
 * Counter writes do not wait for the disk (SQLite: `synchronous = NORMAL` for those commits only, on the one
 * connection held for the purpose; PostgreSQL: `synchronous_commit = off` for the transaction). A power loss
 * may forget the last moments of counters, which costs nothing; waiting for two more fsyncs per login cost
 * ~0.9 ms of event loop each time (measured: 440 µs per FULL commit here, 30 µs per NORMAL one).
 */
export class SqlThrottleStore implements ThrottleStore {
  readonly #postgres: boolean;
  /** The last attempt queued per account key (see reserveAttempt). */
  readonly #turns = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Kysely<Tables>,
    /** Test hook: runs between reading the counters and writing them, with the rows locked. */
    private readonly betweenReadAndWrite?: () => Promise<void>,
  ) {
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /**
   * Attempts on one account wait their turn here, in this process, before taking a connection: a flood of
   * simultaneous guesses on one account would otherwise hold every pooled connection waiting on the same row
   * lock, and other requests would time out waiting for a connection (503). The row lock still orders
   * attempts across processes.
   */
  reserveAttempt(attempt: AttemptReservation): Promise<number> {
    const key = attempt.account.key;
    const turn = (this.#turns.get(key) ?? Promise.resolve()).then(() => this.#reserve(attempt));
    const settled = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#turns.set(key, settled);
    void settled.then(() => {
      if (this.#turns.get(key) === settled) this.#turns.delete(key);
    });
    return turn;
  }

  #reserve(attempt: AttemptReservation): Promise<number> {
    const keys = [attempt.account.key, attempt.address.key].sort();
    return this.#writeLazily(async (tx) => {
      if (this.#postgres) {
        await tx
          .insertInto('login_throttle')
          .values(keys.map((key) => ({ key, failures: 0, last_failure_at: 0, blocked_until: 0 })))
          .onConflict((oc) => oc.column('key').doNothing())
          .execute();
      }
      const rows = await tx
        .selectFrom('login_throttle')
        .selectAll()
        .where('key', 'in', keys)
        .orderBy('key')
        .$if(this.#postgres, (query) => query.forUpdate())
        .execute();
      const counters = new Map(rows.map((row) => [row.key, toCounter(row)]));
      const outcome = reserve(attempt, {
        address: counters.get(attempt.address.key),
        account: counters.get(attempt.account.key),
      });
      if (!outcome.admitted) return outcome.blockedUntil;
      await this.betweenReadAndWrite?.();
      for (const [key, counter] of [
        [attempt.account.key, outcome.account],
        [attempt.address.key, outcome.address],
      ] as const) {
        const row = {
          failures: counter.failures,
          last_failure_at: counter.lastFailureAt,
          blocked_until: counter.blockedUntil,
        };
        await tx
          .insertInto('login_throttle')
          .values({ key, ...row })
          .onConflict((oc) => oc.column('key').doUpdateSet(row))
          .execute();
      }
      return 0;
    });
  }

  async recordSuccess(keys: string[], now: number): Promise<void> {
    await this.#writeLazily((tx) =>
      tx
        .insertInto('login_throttle')
        .values(
          [...keys]
            .sort()
            .map((key) => ({ key, failures: 0, last_failure_at: 0, blocked_until: 0, last_success_at: now })),
        )
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({ failures: 0, blocked_until: 0, last_success_at: now }),
        )
        .execute(),
    );
  }

  /** Runs `work` in a transaction whose commit does not wait for the disk (see the class comment). */
  #writeLazily<T>(work: (tx: Transaction<Tables>) => Promise<T>): Promise<T> {
    if (this.#postgres) {
      return this.db.transaction().execute(async (tx) => {
        await sql`set local synchronous_commit = off`.execute(tx);
        return work(tx);
      });
    }
    // The connection is held throughout, so no other commit runs under the relaxed setting.
    return this.db.connection().execute(async (connection) => {
      await sql`pragma synchronous = normal`.execute(connection);
      try {
        return await connection.transaction().execute(work);
      } finally {
        // database.ts opens every SQLite connection with synchronous = FULL.
        await sql`pragma synchronous = full`.execute(connection);
      }
    });
  }

  async clearAccount(accountKey: string, addressPrefix: string): Promise<void> {
    await this.db
      .deleteFrom('login_throttle')
      .where((eb) =>
        eb.or([
          eb('key', '=', accountKey),
          // Not LIKE: an email may hold % and _.
          eb(eb.fn('substr', ['key', eb.val(1), eb.val(addressPrefix.length)]), '=', addressPrefix),
        ]),
      )
      .execute();
  }

  async readCounters(keys: string[]): Promise<Map<string, FailureCounter>> {
    const rows = await this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
    return new Map(rows.map((row) => [row.key, toCounter(row)]));
  }

  /**
   * Prunes every PRUNE_INTERVAL_MS (the timer does not keep the process alive); failures go to `onError`.
   * Returns the function that stops it.
   */
  startPruning(now: () => number, rememberSuccessMs: number, onError: (error: unknown) => void): () => void {
    const timer = setInterval(() => {
      this.prune(now(), rememberSuccessMs).catch(onError);
    }, PRUNE_INTERVAL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Deletes counters that no longer matter: no recent failure, no block, no success worth remembering. */
  async prune(now: number, rememberSuccessMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<', now - DAY)
      .where('blocked_until', '<', now)
      .where((eb) =>
        eb.or([eb('last_success_at', 'is', null), eb('last_success_at', '<', now - rememberSuccessMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
