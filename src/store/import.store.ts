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

  /** Inserts sessions whose token hash is new; returns how many were inserted. */
  async insertSessions(sessions: ImportedSession[], now: number): Promise<number> {
    if (sessions.length === 0) return 0;
    const rows = await this.db
      .insertInto('sessions')
      .values(
        sessions.map((s) => ({
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
   * Moves the users id sequence past `maxId` (the largest id in the source, imported or refused), so a signup
   * after the import never takes an id that a Django user had: a refused user may be imported later.
   */
  async reserveIdsUpTo(maxId: number, postgres: boolean): Promise<void> {
    if (postgres) {
      await sql`select setval(pg_get_serial_sequence('users', 'id'), greatest((select max(id) from users), ${maxId}, 1))`.execute(
        this.db,
      );
      return;
    }
    await sql`insert into sqlite_sequence (name, seq) select 'users', 0 where not exists (select 1 from sqlite_sequence where name = 'users')`.execute(
      this.db,
    );
    await sql`update sqlite_sequence set seq = max(seq, ${maxId}) where name = 'users'`.execute(this.db);
  }
}

/** Runs one batch's writes with the import store of its transaction. */
export type BatchRunner = (work: (store: ImportStore) => Promise<void>) => Promise<void>;

/**
 * Runs an import: each batch in its own transaction, committed as it ends; or, for a dry run, every batch in
 * one transaction that is rolled back at the end (exact counts, conflicts included, nothing kept).
 */
export async function runImport(
  db: Kysely<Tables>,
  dryRun: boolean,
  importAll: (inBatch: BatchRunner) => Promise<void>,
): Promise<void> {
  if (!dryRun) {
    await importAll((work) => db.transaction().execute((trx) => work(new ImportStore(trx))));
    return;
  }
  const trx = await db.startTransaction().execute();
  try {
    await importAll((work) => work(new ImportStore(trx)));
  } finally {
    await trx.rollback().execute();
  }
}
