import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { StoreUnavailableError } from './accounts/storage.js';
import { ConfigError, type DatabaseLocation, loadConfig } from './config.js';
import { isDatabaseUnavailable } from './store/database-errors.js';
import { VERSION } from './version.js';

/**
 * Starts Ras: configuration from the environment, listen, and drain on SIGTERM/SIGINT. With WORKERS > 1 this
 * process becomes the cluster's primary and each worker (which runs this same entry point) serves.
 */
export async function startServer(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config).catch(failedToStart);
  const app = await buildApp(config).catch(failedToStart);
  // Stop accepting, let requests in flight finish (up to 10 s), close the database, exit 0.
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'fatal error, shutting down');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port }).catch(async (error) => {
    await app.close();
    failedToStart(error);
  });
  if (config.admin)
    await app.adminApp?.listen({ host: config.admin.host, port: config.admin.port }).catch(async (error) => {
      await app.close();
      failedToStart(error);
    });
  app.log.info(
    {
      version: VERSION,
      database: describeDatabase(config.database),
      docs: `http://${config.host}:${config.port}/docs`,
      ...(config.metrics ? { metrics: `http://${config.metrics.host}:${config.metrics.port}/metrics` } : {}),
      ...(config.admin ? { admin: `http://${config.admin.host}:${config.admin.port}/admin/v1/docs` } : {}),
    },
    `Ras ${VERSION} listening on http://${config.host}:${config.port}`,
  );
}

/** Where the data is, never with a password. */
function describeDatabase(location: DatabaseLocation): string {
  if (location.dialect === 'sqlite') return `sqlite:${location.filename}`;
  const url = new URL(location.connectionString);
  return `postgres://${url.host}${url.pathname}`;
}

/**
 * A start that cannot succeed ends with one line on standard error and an exit code, never a stack: 69 when
 * the database or the port is unavailable, 73 when the SQLite file cannot be created or opened, 70 otherwise
 * (78, bad configuration, is decided before).
 */
function failedToStart(error: unknown): never {
  const { syscall } = error as { syscall?: unknown };
  const cause = error instanceof StoreUnavailableError ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (syscall === 'listen' || syscall === 'bind') {
    console.error(`ras: cannot listen: ${message}`);
    process.exit(69);
  }
  if (syscall === 'mkdir' || syscall === 'open' || /SQLITE_CANTOPEN|unable to open database/i.test(message)) {
    console.error(`ras: cannot create or open the SQLite database: ${message}`);
    process.exit(73); // EX_CANTCREAT
  }
  if (error instanceof StoreUnavailableError || isDatabaseUnavailable(error)) {
    console.error(`ras: cannot reach the database: ${message}`);
    process.exit(69); // EX_UNAVAILABLE
  }
  console.error(`ras: cannot start: ${message}`);
  process.exit(70); // EX_SOFTWARE
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) await startServer();
