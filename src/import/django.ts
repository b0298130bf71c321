/**
 * `ras import django`: moves a Django deployment's accounts to Ras with no password reset and no client logged
 * out. Users keep their ids (clients call /users/{id}/ with them), their password hashes (verified in Django's
 * format at the next login, then upgraded to argon2id), `is_active` and `date_joined`; Django REST Framework
 * tokens become sessions of their users, stored hashed, so every client holding one keeps working.
 *
 * It streams both tables in id/key order (django-source.ts), a batch at a time (bounded memory whatever the
 * size), each batch planned without I/O (plan.ts); all of it is written in one transaction, committed at the end
 * or rolled back on any failure, so the target never holds half an import; `--dry-run` rolls it back at the end
 * (store/import.store.ts). Nothing already in
 * Ras is overwritten, so a second run imports nothing new and says so. Rows it will not import are refused
 * with a reason: an invalid email, an email that collides with another after normalization (Django allows
 * `A@x.com` beside `a@x.com`: never merged), an unknown or unsalted legacy hash, an id already taken.
 */
import { normalizeEmail } from '../accounts/email.js';
import { hashToken } from '../crypto/tokens.js';
import type { Database } from '../store/database.js';
import type { SourceDatabase } from './source.js';
import {
  type BatchRunner,
  type ImportedSession,
  type ImportedUser,
  type ImportStore,
  runImport,
} from '../store/import.store.js';
import {
  countRows,
  type DjangoTables,
  type DjangoTokenRow,
  type DjangoUserRow,
  tokenBatches,
  userBatches,
} from './django-source.js';
import { planUserBatch, toMillis, type UserCandidate } from './plan.js';
import { emptyReport, fallBack, type ImportReport, refuse } from './report.js';

export type { ImportReport } from './report.js';

export interface DjangoImportOptions extends DjangoTables {
  /** The Django database, opened read-only by the caller (source.ts). */
  source: SourceDatabase;
  dryRun: boolean;
  /** Import md5/sha1/crypt hashes too (refused by default: they fall to a GPU in seconds). */
  acceptUnsalted: boolean;
  sessionTtlMs: number;
  now: () => number;
  onProgress?: (phase: 'users' | 'tokens', done: number, total: number) => void;
}

export async function importFromDjango(
  target: Database,
  options: DjangoImportOptions,
): Promise<ImportReport> {
  const started = performance.now();
  const report = emptyReport(options.dryRun);
  // One transaction: the import happens whole, or not at all (a failure leaves the target as it was).
  const postgres = target.dialect === 'postgres';
  await runImport(target.db, options.dryRun, async (inBatch) => {
    let sequence = 0;
    await inBatch(async (store) => void (sequence = await store.idSequence(postgres)));
    await importUsers(options, report, inBatch);
    await importTokens(options, report, inBatch);
    await inBatch((store) => store.setIdSequence(Math.max(sequence, report.maxImportedId), postgres));
  });
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

async function importUsers(
  options: DjangoImportOptions,
  report: ImportReport,
  inBatch: BatchRunner,
): Promise<void> {
  const total = await countRows(options.source, options.table);
  for await (const rows of userBatches(options.source, options)) {
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
  const plan = planUserBatch(rows, { acceptUnsalted: options.acceptUnsalted, now: options.now() });
  for (const { code, id } of plan.refusals) refuse(report, code, id);
  for (const { code, id } of plan.fallbacks) fallBack(report, code, id);
  const { candidates } = plan;
  const inserted = await store.insertUsers(candidates.map(toImportedUser));
  report.users.imported += inserted.size;
  for (const id of inserted) report.maxImportedId = Math.max(report.maxImportedId, id);
  for (const user of candidates.filter((c) => inserted.has(c.id))) {
    if (user.unusable) report.users.unusablePassword++;
    else report.pendingUpgrade++;
  }
  await classifyConflicts(
    store,
    candidates.filter((c) => !inserted.has(c.id)),
    report,
  );
}

function toImportedUser(user: UserCandidate): ImportedUser {
  const { id, email, passwordHash, isActive, dateJoined } = user;
  return { id, email, passwordHash, isActive, dateJoined };
}

/** Why a user was not inserted: already imported (same id and email), or a real conflict to report. */
async function classifyConflicts(
  store: ImportStore,
  missed: UserCandidate[],
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
    else if (idByEmail.has(user.email)) refuse(report, 'email_duplicate', user.id, idByEmail.get(user.email));
    else refuse(report, 'id_taken', user.id);
  }
}

async function importTokens(
  options: DjangoImportOptions,
  report: ImportReport,
  inBatch: BatchRunner,
): Promise<void> {
  let total: number;
  try {
    total = await countRows(options.source, options.tokenTable);
  } catch {
    return; // No DRF token table: nothing to carry over.
  }
  for await (const rows of tokenBatches(options.source, options)) {
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
      refuse(report, 'token_orphaned', userId);
      continue;
    }
    // The lifetime starts at the import: a token older than TOKEN_TTL must keep working after the switch.
    sessions.push({
      userId,
      tokenHash: hashToken(row.key),
      createdAt: toMillis(row.created) ?? now,
      expiresAt: now + options.sessionTtlMs,
    });
  }
  const inserted = await store.insertSessions(sessions, now);
  report.sessions.imported += inserted;
  report.sessions.alreadyPresent += sessions.length - inserted;
}
