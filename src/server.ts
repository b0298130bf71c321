import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { ConfigError, loadConfig } from './config.js';

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
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config);
  const app = await buildApp(config);
  // Stop accepting, let requests in flight finish (up to 10 s), close the database, exit 0.
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'fatal error, shutting down');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) await startServer();
