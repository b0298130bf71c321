import { type Kysely, sql } from 'kysely';
import type { Tables } from './schema.js';

export interface ImportedUser {
  id: number;
  email: string;
  passwordHash: string;
  isActive: boolean;
  dateJoined: number;
}

export interface ImportedSession {
  userId: number;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

/** Bulk writes for `ras import`: rows keep the ids they had, and nothing already present is overwritten. */
export class ImportStore {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Inserts the users that conflict with nothing (id or email); returns the ids actually inserted. */
  async insertUsers(users: ImportedUser[]): Promise<Set<number>> {
    if (users.length === 0) return new Set();
    const rows = await this.db
      .insertInto('users')
      .values(
        users.map((u) => ({
          id: u.id,
          email: u.email,
          password_hash: u.passwordHash,
          is_active: u.isActive ? 1 : 0,
          date_joined: u.dateJoined,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /** id → email of the Ras users with these ids or these emails. */
  async usersByIdsOrEmails(ids: number[], emails: string[]): Promise<{ id: number; email: string }[]> {
    if (ids.length === 0 && emails.length === 0) return [];
    return this.db
      .selectFrom('users')
      .select(['id', 'email'])
      .where((eb) =>
        eb.or([eb('id', 'in', ids.length ? ids : [-1]), eb('email', 'in', emails.length ? emails : [''])]),
      )
      .execute();
  }

  /**
   * Inserts sessions whose token hash is new; returns how many were inserted. Those already present are left
   * out of the INSERT rather than left to its conflict clause, which would still take an id from the sequence:
   * a second import of the same source changes nothing at all.
   */
  async insertSessions(sessions: ImportedSession[], now: number): Promise<number> {
    if (sessions.length === 0) return 0;
    const present = await this.db
      .selectFrom('sessions')
      .select('token_hash')
      .where(
        'token_hash',
        'in',
        sessions.map((s) => s.tokenHash),
      )
      .execute();
    const known = new Set(present.map((row) => row.token_hash));
    const fresh = sessions.filter((s) => !known.has(s.tokenHash));
    if (fresh.length === 0) return 0;
    const rows = await this.db
      .insertInto('sessions')
      .values(
        fresh.map((s) => ({
          user_id: s.userId,
          token_hash: s.tokenHash,
          created_at: s.createdAt,
          expires_at: s.expiresAt,
          last_seen_at: now,
          user_agent: 'imported from Django REST Framework',
          ip: null,
        })),
      )
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .returning('id')
      .execute();
    return rows.length;
  }

  /**
   * The last id the users sequence handed out (or was moved to). Read before the import writes anything:
   * SQLite moves its sequence even for an explicit id whose insert a conflict clause then drops.
   */
  async idSequence(postgres: boolean): Promise<number> {
    const { rows } = postgres
      ? await sql<{ n: number | string }>`select last_value as n from ${sql.raw(USERS_SEQUENCE)}`.execute(
          this.db,
        )
      : await sql<{ n: number }>`select seq as n from sqlite_sequence where name = 'users'`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Sets the users id sequence to `lastId` (the largest id imported, or the sequence's own value before the
   * import, whichever is larger), so a signup after the import never takes an id that an imported user has,
   * never one an erased account had, and never skips past a refused id (a refused 2^53 would otherwise leave
   * signups no ids at all).
   */
  async setIdSequence(lastId: number, postgres: boolean): Promise<void> {
    if (postgres) {
      await sql`select setval(${USERS_SEQUENCE}, greatest(${lastId}::bigint, 1))`.execute(this.db);
      return;
    }
    await sql`insert into sqlite_sequence (name, seq) select 'users', 0 where not exists (select 1 from sqlite_sequence where name = 'users')`.execute(
      this.db,
    );
    await sql`update sqlite_sequence set seq = ${lastId} where name = 'users'`.execute(this.db);
  }
}

/** The sequence of users.id on PostgreSQL (a `serial` column's, named by PostgreSQL's rule). */
const USERS_SEQUENCE = 'users_id_seq';

/** Runs one batch's writes with the import's store. */
export type BatchRunner = (work: (store: ImportStore) => Promise<void>) => Promise<void>;

/**
 * Runs an import in one transaction: committed when all of it has run, rolled back on any failure (the target
 * is then exactly as it was) and, for a dry run, rolled back at the end (exact counts, conflicts included,
 * nothing kept). On SQLite the server's writes wait while it runs (one writer at a time): import before
 * switching traffic, or expect 503s for writes meanwhile.
 */
export async function runImport(
  db: Kysely<Tables>,
  dryRun: boolean,
  importAll: (inBatch: BatchRunner) => Promise<void>,
): Promise<void> {
  const trx = await db.startTransaction().execute();
  try {
    const store = new ImportStore(trx);
    await importAll((work) => work(store));
  } catch (error) {
    await trx.rollback().execute();
    throw error;
  }
  await (dryRun ? trx.rollback() : trx.commit()).execute();
}
