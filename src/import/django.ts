/**
 * `ras import django`: moves a Django deployment's accounts to Ras with no password reset and no client logged
 * out. Users keep their ids (clients call /users/{id}/ with them), their password hashes (verified in Django's
 * format at the next login, then upgraded to argon2id), `is_active` and `date_joined`; Django REST Framework
 * tokens become sessions of their users, stored hashed, so every client holding one keeps working.
 *
 * It streams both tables in id/key order, a batch at a time (bounded memory whatever the size), each batch in
 * its own transaction; `--dry-run` runs the same work in one transaction and rolls it back. Nothing already in
 * Ras is overwritten, so a second run imports nothing new and says so. Rows it will not import are refused
 * with a reason: an invalid email, an email that collides with another after normalization (Django allows
 * `A@x.com` beside `a@x.com`: never merged), an unknown or unsalted legacy hash, an id already taken.
 */
import { sql } from 'kysely';
import { normalizeEmail } from '../accounts/email.js';
import { classifyDjangoHash } from '../crypto/django-passwords.js';
import { hashToken } from '../crypto/tokens.js';
import type { Database } from '../store/database.js';
import { type ImportedSession, type ImportedUser, ImportStore } from '../store/import.store.js';

export interface DjangoImportOptions {
  /** The Django database's URL (sqlite:… or postgres://…), already opened by the caller. */
  source: Database;
  table: string;
  emailColumn: string;
  tokenTable: string;
  dryRun: boolean;
  /** Import md5/sha1/crypt hashes too (refused by default: they fall to a GPU in seconds). */
  acceptUnsalted: boolean;
  batchSize: number;
  sessionTtlMs: number;
  now: () => number;
  onProgress?: (phase: 'users' | 'tokens', done: number, total: number) => void;
}

export interface ImportReport {
  dryRun: boolean;
  users: { seen: number; imported: number; alreadyPresent: number; unusablePassword: number };
  sessions: { seen: number; imported: number; alreadyPresent: number };
  /** The largest user id in the source: new Ras ids start after it. */
  maxSourceId: number;
  /** Imported accounts whose hash is still Django's: each becomes argon2id at its next login. */
  pendingUpgrade: number;
  /** Reason → how many, and the first ids (users) or user ids (tokens). */
  refused: Record<string, { count: number; examples: number[] }>;
  seconds: number;
}

interface DjangoUserRow {
  id: number | string;
  email: unknown;
  password: string | null;
  is_active: unknown;
  date_joined: unknown;
}

interface DjangoTokenRow {
  key: string;
  created: unknown;
  user_id: number | string;
  email: unknown;
}

const EXAMPLES = 20;

class DryRunRollback extends Error {}

/** Runs one batch's writes: in its own transaction, or (dry run) inside the one that will be rolled back. */
type BatchRunner = (work: (store: ImportStore) => Promise<void>) => Promise<void>;

export async function importFromDjango(
  target: Database,
  options: DjangoImportOptions,
): Promise<ImportReport> {
  const started = performance.now();
  const report: ImportReport = {
    dryRun: options.dryRun,
    users: { seen: 0, imported: 0, alreadyPresent: 0, unusablePassword: 0 },
    sessions: { seen: 0, imported: 0, alreadyPresent: 0 },
    maxSourceId: 0,
    pendingUpgrade: 0,
    refused: {},
    seconds: 0,
  };
  const run = async (inBatch: BatchRunner) => {
    await importUsers(options, report, inBatch);
    await importTokens(options, report, inBatch);
  };

  if (options.dryRun) {
    // The whole import in one transaction, rolled back: exact counts (conflicts included), nothing kept.
    await target.db
      .transaction()
      .execute(async (trx) => {
        await run((work) => work(new ImportStore(trx)));
        throw new DryRunRollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof DryRunRollback)) throw error;
      });
  } else {
    await run((work) => target.db.transaction().execute((trx) => work(new ImportStore(trx))));
    await new ImportStore(target.db).reserveIdsUpTo(report.maxSourceId, target.dialect === 'postgres');
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * A table read in key order, one batch per query, each query starting after the last key seen (keyset
 * pagination): memory stays bounded and no row is read twice, however large the table.
 */
async function* inKeyOrder<Row, Key>(
  start: Key,
  keyOf: (row: Row) => Key,
  fetch: (after: Key) => Promise<Row[]>,
): AsyncGenerator<Row[]> {
  for (let after = start; ;) {
    const rows = await fetch(after);
    if (rows.length === 0) return;
    yield rows;
    after = keyOf(rows.at(-1)!);
  }
}

function refuse(report: ImportReport, reason: string, id: number): void {
  const entry = (report.refused[reason] ??= { count: 0, examples: [] });
  entry.count++;
  if (entry.examples.length < EXAMPLES) entry.examples.push(id);
}

async function count(source: Database, table: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(
    source.db,
  );
  return Number(rows[0]?.n ?? 0);
}

async function importUsers(
  options: DjangoImportOptions,
  report: ImportReport,
  inBatch: BatchRunner,
): Promise<void> {
  const total = await count(options.source, options.table);
  const batches = inKeyOrder(
    -1,
    (row: DjangoUserRow) => Number(row.id),
    async (after) =>
      (
        await sql<DjangoUserRow>`
          select id, ${sql.ref(options.emailColumn)} as email, password, is_active, date_joined
          from ${sql.table(options.table)} where id > ${after} order by id limit ${options.batchSize}`.execute(
          options.source.db,
        )
      ).rows,
  );
  for await (const rows of batches) {
    report.maxSourceId = Math.max(report.maxSourceId, Number(rows.at(-1)!.id));
    await inBatch((store) => importUserBatch(store, rows, options, report));
    report.users.seen += rows.length;
    options.onProgress?.('users', report.users.seen, total);
  }
}

async function importUserBatch(
  store: ImportStore,
  rows: DjangoUserRow[],
  options: DjangoImportOptions,
  report: ImportReport,
): Promise<void> {
  const candidates: ImportedUser[] = [];
  for (const row of rows) {
    const id = Number(row.id);
    const email = normalizeEmail(row.email);
    const hash = row.password ?? '';
    const verdict = classifyDjangoHash(hash);
    if (email === undefined) refuse(report, 'invalid email address', id);
    else if (verdict.kind === 'unknown') refuse(report, 'unknown password hash format', id);
    else if (verdict.kind === 'refused' && !options.acceptUnsalted) {
      refuse(
        report,
        `weak legacy password hash (${verdict.format}: a fast digest); --accept-unsalted imports it`,
        id,
      );
    } else {
      candidates.push({
        id,
        email,
        passwordHash: hash,
        isActive: toBoolean(row.is_active),
        dateJoined: toMillis(row.date_joined),
      });
    }
  }

  const inserted = await store.insertUsers(candidates);
  report.users.imported += inserted.size;
  for (const user of candidates.filter((c) => inserted.has(c.id))) {
    if (classifyDjangoHash(user.passwordHash).kind === 'unusable') report.users.unusablePassword++;
    else report.pendingUpgrade++;
  }
  await classifyConflicts(
    store,
    candidates.filter((c) => !inserted.has(c.id)),
    report,
  );
}

/** Why a user was not inserted: already imported (same id and email), or a real conflict to report. */
async function classifyConflicts(
  store: ImportStore,
  missed: ImportedUser[],
  report: ImportReport,
): Promise<void> {
  if (missed.length === 0) return;
  const existing = await store.usersByIdsOrEmails(
    missed.map((m) => m.id),
    missed.map((m) => m.email),
  );
  const emailById = new Map(existing.map((e) => [e.id, e.email]));
  const idByEmail = new Map(existing.map((e) => [e.email, e.id]));
  for (const user of missed) {
    if (emailById.get(user.id) === user.email) report.users.alreadyPresent++;
    else if (idByEmail.has(user.email))
      refuse(report, 'duplicate email after normalization (another account has it)', user.id);
    else refuse(report, 'id already used by another Ras account', user.id);
  }
}

async function importTokens(
  options: DjangoImportOptions,
  report: ImportReport,
  inBatch: BatchRunner,
): Promise<void> {
  let total: number;
  try {
    total = await count(options.source, options.tokenTable);
  } catch {
    return; // No DRF token table: nothing to carry over.
  }
  const batches = inKeyOrder(
    '',
    (row: DjangoTokenRow) => row.key,
    async (after) =>
      (
        await sql<DjangoTokenRow>`
          select t.key, t.created, t.user_id, u.${sql.ref(options.emailColumn)} as email
          from ${sql.table(options.tokenTable)} t join ${sql.table(options.table)} u on u.id = t.user_id
          where t.key > ${after} order by t.key limit ${options.batchSize}`.execute(options.source.db)
      ).rows,
  );
  for await (const rows of batches) {
    await inBatch((store) => importTokenBatch(store, rows, options, report));
    report.sessions.seen += rows.length;
    options.onProgress?.('tokens', report.sessions.seen, total);
  }
}

async function importTokenBatch(
  store: ImportStore,
  rows: DjangoTokenRow[],
  options: DjangoImportOptions,
  report: ImportReport,
): Promise<void> {
  const now = options.now();
  const users = await store.usersByIdsOrEmails(
    rows.map((r) => Number(r.user_id)),
    [],
  );
  const emailById = new Map(users.map((u) => [u.id, u.email]));
  const sessions: ImportedSession[] = [];
  for (const row of rows) {
    const userId = Number(row.user_id);
    // Only onto the very account imported from this Django user: an id taken by someone else gets no token.
    const imported = emailById.get(userId);
    if (imported === undefined || imported !== normalizeEmail(row.email)) {
      refuse(report, 'token of a user that was not imported', userId);
      continue;
    }
    // The lifetime starts at the import: a token older than TOKEN_TTL must keep working after the switch.
    sessions.push({
      userId,
      tokenHash: hashToken(row.key),
      createdAt: toMillis(row.created),
      expiresAt: now + options.sessionTtlMs,
    });
  }
  const inserted = await store.insertSessions(sessions, now);
  report.sessions.imported += inserted;
  report.sessions.alreadyPresent += sessions.length - inserted;
}

function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

/** Django stores datetimes as text on SQLite ("2024-05-01 12:00:00.123456", UTC) and as timestamptz on PostgreSQL. */
function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const iso = value.includes('T') ? value : value.replace(' ', 'T');
    const parsed = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Date.now();
}
