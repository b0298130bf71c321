/** Why a row was not imported, as a stable code (`--json`), each with the sentence the text report prints. */
export const REFUSALS = {
  email_invalid: 'invalid email address',
  email_duplicate: 'duplicate email after normalization (another account has it)',
  id_not_positive: 'id is zero or negative (clients could never call /users/{id}/ with it)',
  id_too_large: `id over ${Number.MAX_SAFE_INTEGER} (2^53−1: the largest integer a JSON number carries exactly)`,
  id_taken: 'id already used by another Ras account',
  hash_unknown: 'unknown password hash format',
  hash_out_of_bounds: 'password hash parameters beyond what Ras verifies (see SECURITY.md)',
  hash_weak_md5: 'weak legacy password hash (md5: a fast digest); --accept-unsalted imports it',
  hash_weak_sha1: 'weak legacy password hash (sha1: a fast digest); --accept-unsalted imports it',
  hash_weak_unsalted_md5:
    'weak legacy password hash (unsalted_md5: a fast digest); --accept-unsalted imports it',
  hash_weak_unsalted_sha1:
    'weak legacy password hash (unsalted_sha1: a fast digest); --accept-unsalted imports it',
  hash_weak_crypt: 'weak legacy password hash (crypt: a fast digest); --accept-unsalted imports it',
  token_orphaned: 'token of a user that was not imported',
} as const;

export type RefusalCode = keyof typeof REFUSALS;

/** Imported, but with a value Ras had to choose. */
export const FALLBACKS = {
  date_joined_unreadable:
    'date_joined unreadable (not a date, or out of range): set to the time of the import',
} as const;

export type FallbackCode = keyof typeof FALLBACKS;

interface Tally {
  reason: string;
  count: number;
  /** The first ids (users) or user ids (tokens). */
  examples: number[];
}

/** What `ras import django` did, as printed (text or `--json`). */
export interface ImportReport {
  dryRun: boolean;
  users: { seen: number; imported: number; alreadyPresent: number; unusablePassword: number };
  sessions: { seen: number; imported: number; alreadyPresent: number };
  /** The largest user id imported: new Ras ids start after it (never after a refused one). */
  maxImportedId: number;
  /** Imported accounts whose hash is still Django's: each becomes argon2id at its next login. */
  pendingUpgrade: number;
  refused: Partial<Record<RefusalCode, Tally & { collisions?: { id: number; withId: number }[] }>>;
  fallbacks: Partial<Record<FallbackCode, Tally>>;
  seconds: number;
}

const EXAMPLES = 20;

export function emptyReport(dryRun: boolean): ImportReport {
  return {
    dryRun,
    users: { seen: 0, imported: 0, alreadyPresent: 0, unusablePassword: 0 },
    sessions: { seen: 0, imported: 0, alreadyPresent: 0 },
    maxImportedId: 0,
    pendingUpgrade: 0,
    refused: {},
    fallbacks: {},
    seconds: 0,
  };
}

function tally(entry: Tally, id: number): void {
  entry.count++;
  if (entry.examples.length < EXAMPLES) entry.examples.push(id);
}

/** Counts a refused row under its code, keeping the first ids (and, for a duplicate, whom it collided with). */
export function refuse(report: ImportReport, code: RefusalCode, id: number, withId?: number): void {
  const entry = (report.refused[code] ??= { reason: REFUSALS[code], count: 0, examples: [] });
  tally(entry, id);
  if (withId !== undefined && (entry.collisions ??= []).length < EXAMPLES)
    entry.collisions.push({ id, withId });
}

export function fallBack(report: ImportReport, code: FallbackCode, id: number): void {
  tally((report.fallbacks[code] ??= { reason: FALLBACKS[code], count: 0, examples: [] }), id);
}

export function refusedCount(report: ImportReport): number {
  return Object.values(report.refused).reduce((n, entry) => n + entry.count, 0);
}

/** The report as the operator reads it. */
export function formatReport(report: ImportReport): string {
  const rate = report.users.seen / Math.max(report.seconds, 0.001);
  const verb = report.dryRun ? 'would import' : 'imported';
  const lines = [
    `${report.dryRun ? 'DRY RUN (nothing was written)' : 'import finished'} in ${report.seconds.toFixed(1)} s (${Math.round(rate).toLocaleString()} users/s)`,
    `users:    ${report.users.seen} read, ${report.users.imported} ${verb}, ${report.users.alreadyPresent} already in Ras, ${report.users.unusablePassword} with an unusable password (cannot log in until an operator acts)`,
    `sessions: ${report.sessions.seen} DRF tokens read, ${report.sessions.imported} ${verb}, ${report.sessions.alreadyPresent} already in Ras`,
    `hashes pending upgrade to argon2id at next login: ${report.pendingUpgrade}`,
  ];
  const refused = Object.entries(report.refused);
  lines.push(refused.length === 0 ? 'refused: none' : 'refused:');
  for (const [code, { reason, count, examples, collisions }] of refused) {
    const ids = collisions
      ? collisions.map((c) => `${c.id} (collides with Ras account ${c.withId})`)
      : examples.map(String);
    lines.push(`  ${count} × ${reason} [${code}]: id ${ids.join(', ')}${count > ids.length ? ', …' : ''}`);
  }
  for (const [code, { reason, count, examples }] of Object.entries(report.fallbacks)) {
    lines.push(`imported with a fallback: ${count} × ${reason} [${code}]: id ${examples.join(', ')}`);
  }
  return lines.join('\n');
}
