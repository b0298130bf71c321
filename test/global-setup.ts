import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh PostgreSQL database for this run, or null when PostgreSQL is not reachable (and CI is not set). */
    postgresUrl: string | null;
  }
}

const ADMIN_URL = process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates a fresh PostgreSQL database for the run and drops it afterwards. With CI=true an unreachable
 * PostgreSQL fails the run: the PostgreSQL half of the suite must never be skipped silently there.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `ras_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    if (process.env.CI === 'true')
      throw new Error(`CI=true but PostgreSQL is not reachable at ${ADMIN_URL}: ${String(error)}`);
    console.warn(
      `\n!!! PostgreSQL not reachable at ${ADMIN_URL}: PostgreSQL tests are SKIPPED (${String(error)})\n`,
    );
    project.provide('postgresUrl', null);
    return async () => undefined;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  project.provide('postgresUrl', url.toString());
  return async () => {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  };
}
