import { SingleBar } from 'cli-progress';
import { importFromDjango } from '../import/django.js';
import { formatReport, type ImportReport } from '../import/report.js';
import type { Config } from '../config.js';
import { openSource } from '../import/source.js';
import { openServices } from '../services.js';

export interface ImportDjangoFlags {
  from: string;
  table: string;
  emailColumn: string;
  tokenTable: string;
  dryRun: boolean;
  acceptUnsalted: boolean;
  batchSize: number;
  json: boolean;
  allowRefusals: boolean;
}

/** Runs `ras import django` against DATABASE_URL; prints a progress bar on stderr and the report on stdout. */
export async function runImportDjango(config: Config, flags: ImportDjangoFlags): Promise<ImportReport> {
  const source = await openSource(flags.from);
  const target = await openServices(config, { poolMax: 2 }).catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
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
    const report = await importFromDjango(target.database, {
      source,
      table: flags.table,
      emailColumn: flags.emailColumn,
      tokenTable: flags.tokenTable,
      dryRun: flags.dryRun,
      acceptUnsalted: flags.acceptUnsalted,
      batchSize: flags.batchSize,
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
