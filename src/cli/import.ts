import { SingleBar } from 'cli-progress';
import type { Config } from '../config.js';
import { importFromDjango, type ImportReport } from '../import/django.js';
import { openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';

export interface ImportDjangoFlags {
  from: string;
  table: string;
  emailColumn: string;
  tokenTable: string;
  dryRun: boolean;
  acceptUnsalted: boolean;
  batchSize: string;
  json: boolean;
}

/** Runs `ras import django` against DATABASE_URL; prints a progress bar on stderr and the report on stdout. */
export async function runImportDjango(config: Config, flags: ImportDjangoFlags): Promise<ImportReport> {
  const source = await openDatabase(flags.from);
  const target = await openDatabase(config.databaseUrl, { poolMax: 2 });
  const bar = new SingleBar({
    stream: process.stderr,
    format: ' {phase} [{bar}] {percentage}% | {value}/{total} | {rate}/s',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  let phase: string | undefined;
  let phaseStarted = performance.now();
  try {
    await migrateToLatest(target.db);
    const report = await importFromDjango(target, {
      source,
      table: flags.table,
      emailColumn: flags.emailColumn,
      tokenTable: flags.tokenTable,
      dryRun: flags.dryRun,
      acceptUnsalted: flags.acceptUnsalted,
      batchSize: Number(flags.batchSize),
      sessionTtlMs: config.sessionTtlMs,
      now: Date.now,
      onProgress: (current, done, total) => {
        if (current !== phase) {
          if (phase) bar.stop();
          phase = current;
          phaseStarted = performance.now();
          bar.start(total, 0, { phase: current.padEnd(6), rate: 0 });
        }
        const rate = Math.round(done / Math.max(0.001, (performance.now() - phaseStarted) / 1000));
        bar.update(done, { rate });
      },
    });
    if (phase) bar.stop();
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report;
  } finally {
    if (phase && bar.isActive) bar.stop();
    await source.close();
    await target.close();
  }
}

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
