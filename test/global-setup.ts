import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh PostgreSQL database for this run, or null when PostgreSQL is not reachable (and CI is not set). */
    postgresUrl: string | null;
    /** The server's maintenance database, for tests that create a private database of their own. */
    postgresAdminUrl: string | null;
    /** A Redis database emptied for this run, or null when Redis is not reachable (and CI is not set). */
    redisUrl: string | null;
  }
}

const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

function unavailable(what: string, url: string, error: unknown): void {
  if (process.env.CI === 'true')
    throw new Error(`CI=true but ${what} is not reachable at ${url}: ${String(error)}`);
  console.warn(`\n!!! ${what} not reachable at ${url}: its tests are SKIPPED (${String(error)})\n`);
}

/**
 * Creates a fresh PostgreSQL database for the run (dropped afterwards) and empties a Redis database. With
 * CI=true an unreachable service fails the run: those halves of the suite must never be skipped there.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const teardown: (() => Promise<void>)[] = [];
  project.provide('postgresUrl', null);
  project.provide('postgresAdminUrl', null);
  project.provide('redisUrl', null);

  const name = `ras_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    project.provide('postgresUrl', url.toString());
    project.provide('postgresAdminUrl', ADMIN_URL);
    teardown.push(async () => {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
    });
  } catch (error) {
    await admin.end().catch(() => undefined);
    unavailable('PostgreSQL', ADMIN_URL, error);
  }

  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.flushdb();
    project.provide('redisUrl', REDIS_URL);
  } catch (error) {
    unavailable('Redis', REDIS_URL, error);
  } finally {
    redis.disconnect();
  }

  return async () => {
    for (const step of teardown) await step();
  };
}
