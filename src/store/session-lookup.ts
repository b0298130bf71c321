import DataLoader from 'dataloader';
import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type { ActiveSession } from '../accounts/storage.js';
import { preparedOnPostgres } from './prepared-statements.js';
import type { Tables } from './schema.js';

interface Lookup {
  tokenHash: string;
  now: number;
}

interface SessionRow extends Omit<ActiveSession, 'emailVerified'> {
  tokenHash: string;
  /** 1 or 0 (SQLite has no boolean). */
  emailVerified: number | boolean;
}

/** Batch sizes with a compiled query each; a batch is padded up to the next one (repeating a hash). */
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64];
const MAX_BATCH = Math.max(...BATCH_SIZES);

/**
 * The authenticated read, on every request: the session of a token hash joined to its user, in one indexed
 * query. Lookups that arrive in the same turn of the event loop (the requests read from the sockets in one
 * poll) go to the database together, as one query: on SQLite one read transaction instead of one each, on
 * PostgreSQL one round trip.
 *
 * On PostgreSQL each batch size is a named prepared statement: parsed and planned once per connection.
 *
 * Nothing is cached: a batch runs after every request in it has arrived, so a revocation committed before a
 * request arrived is always seen by it, on every instance.
 */
export class SessionLookup {
  readonly #loader: DataLoader<Lookup, ActiveSession | undefined>;
  readonly #queries = new Map<number, CompiledQuery<SessionRow>>();
  #inFlight = 0;
  /** Batches ready to go while `maxInFlight` are out: each keeps gathering lookups until it goes. */
  readonly #waiting: (() => void)[] = [];

  /** `maxInFlight`: batches out at once; the next waits, gathering lookups, until one comes back. */
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly maxInFlight = Infinity,
  ) {
    this.#loader = new DataLoader((lookups) => this.#run(lookups), {
      cache: false,
      maxBatchSize: MAX_BATCH,
      // After the poll phase: every request read from the sockets in this turn has asked by then.
      batchScheduleFn: (run) =>
        setImmediate(() => (this.#inFlight < this.maxInFlight ? run() : this.#waiting.push(run))),
    });
  }

  /** The unexpired session with this token hash, if its user is active. */
  find(tokenHash: string, now: number): Promise<ActiveSession | undefined> {
    return this.#loader.load({ tokenHash, now });
  }

  async #run(lookups: readonly Lookup[]): Promise<(ActiveSession | undefined)[]> {
    const size = BATCH_SIZES.find((n) => n >= lookups.length) ?? MAX_BATCH;
    const hashes = lookups.map((lookup) => lookup.tokenHash);
    while (hashes.length < size) hashes.push(hashes[0]!);
    this.#inFlight++;
    let rows: SessionRow[];
    try {
      ({ rows } = await this.db.executeQuery<SessionRow>({ ...this.#query(size), parameters: hashes }));
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
    const byHash = new Map(rows.map((row) => [row.tokenHash, row]));
    return lookups.map(({ tokenHash, now }) => {
      const row = byHash.get(tokenHash);
      if (!row || row.expiresAt <= now) return undefined;
      // A copy per request: the caller may update its lastSeenAt.
      const { sessionId, userId, email, expiresAt, lastSeenAt } = row;
      return {
        sessionId,
        userId,
        email,
        emailVerified: Number(row.emailVerified) === 1,
        expiresAt,
        lastSeenAt,
      };
    });
  }

  /** Kysely builds and compiles each size once; on SQLite the prepared statement is reused too. */
  #query(size: number): CompiledQuery<SessionRow> {
    let query = this.#queries.get(size);
    if (!query) {
      query = this.db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.token_hash as tokenHash',
          'sessions.id as sessionId',
          'sessions.user_id as userId',
          'users.email as email',
          'users.email_verified as emailVerified',
          'sessions.expires_at as expiresAt',
          'sessions.last_seen_at as lastSeenAt',
        ])
        .where(
          'sessions.token_hash',
          'in',
          Array.from({ length: size }, () => ''),
        )
        .where('users.is_active', '=', sql.lit(1))
        .compile();
      preparedOnPostgres(query);
      this.#queries.set(size, query);
    }
    return query;
  }
}
