/** What `ras import django` did, as printed (text or `--json`). */
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

const EXAMPLES = 20;

export function emptyReport(dryRun: boolean): ImportReport {
  return {
    dryRun,
    users: { seen: 0, imported: 0, alreadyPresent: 0, unusablePassword: 0 },
    sessions: { seen: 0, imported: 0, alreadyPresent: 0 },
    maxSourceId: 0,
    pendingUpgrade: 0,
    refused: {},
    seconds: 0,
  };
}

/** Counts a refused row under its reason, keeping the first ids as examples. */
export function refuse(report: ImportReport, reason: string, id: number): void {
  const entry = (report.refused[reason] ??= { count: 0, examples: [] });
  entry.count++;
  if (entry.examples.length < EXAMPLES) entry.examples.push(id);
}

/** The report as the operator reads it. */
export function formatReport(report: ImportReport): string {
  const rate = report.users.seen / Math.max(report.seconds, 0.001);
  const lines = [
    `${report.dryRun ? 'DRY RUN (nothing was written)' : 'import finished'} in ${report.seconds.toFixed(1)} s (${Math.round(rate).toLocaleString()} users/s)`,
    `users:    ${report.users.seen} read, ${report.users.imported} imported, ${report.users.alreadyPresent} already in Ras, ${report.users.unusablePassword} with an unusable password (cannot log in until an operator acts)`,
    `sessions: ${report.sessions.seen} DRF tokens read, ${report.sessions.imported} imported, ${report.sessions.alreadyPresent} already in Ras`,
    `hashes pending upgrade to argon2id at next login: ${report.pendingUpgrade}`,
  ];
  const refused = Object.entries(report.refused);
  lines.push(refused.length === 0 ? 'refused: none' : 'refused:');
  for (const [reason, { count, examples }] of refused) {
    lines.push(`  ${count} × ${reason}: id ${examples.join(', ')}${count > examples.length ? ', …' : ''}`);
  }
  return lines.join('\n');
}
