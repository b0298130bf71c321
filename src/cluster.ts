import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from './config.js';
import { openServices } from './services.js';

const QUICK_DEATH_MS = 2000;
const MAX_QUICK_DEATHS = 5;

/**
 * The primary process with WORKERS > 1: migrates once, starts that many workers on one port (node:cluster
 * hands connections round-robin), starts a new worker when one dies, and on SIGTERM/SIGINT asks every worker
 * to drain, exiting 0 once all have. Each worker has its own database connection (SQLite) or pool
 * (PostgreSQL, DATABASE_POOL_MAX each). A worker that dies right after starting five times in a row means a
 * broken configuration or database: the primary gives up (exit 1) rather than fork forever. With METRICS_PORT
 * the primary serves /metrics, asking every worker at each scrape.
 */
export async function runPrimary(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  // Opening the services migrates the database, once, before any worker starts.
  await (await openServices(config, { poolMax: 1 })).close();

  let stopping = false;
  let quickDeaths = 0;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(), Date.now());

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (started.get(worker) ?? 0);
    started.delete(worker);
    if (stopping) {
      if (started.size === 0) {
        log.info('every worker has drained; exiting');
        process.exit(0);
      }
      return;
    }
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    if (quickDeaths >= MAX_QUICK_DEATHS) {
      log.fatal({ code, signal }, `workers keep dying at start (${quickDeaths} in a row); giving up`);
      process.exit(1);
    }
    // `pid` is the primary's own (pino's base field); the dead worker's is `workerPid`.
    log.error({ workerPid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: started.size }, 'shutting down: draining every worker');
    for (const worker of started.keys()) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  if (config.metrics) {
    const { listenClusterMetrics } = await import('./http/metrics.js');
    await listenClusterMetrics(config.metrics.host, config.metrics.port);
  }
  log.info({ workers: config.workers }, 'starting workers');
  for (let i = 0; i < config.workers; i++) fork();
}
