import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, describe, inject } from 'vitest';
import { type AppOptions, buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';

export type DatabaseName = 'sqlite' | 'postgres';

export interface TestDatabase {
  name: DatabaseName;
  /** A DATABASE_URL for this database; for SQLite a new file per call. */
  url(): string;
}

const tempDirs: string[] = [];

function sqliteDatabase(): TestDatabase {
  return {
    name: 'sqlite',
    url() {
      const dir = mkdtempSync(join(tmpdir(), 'ras-test-'));
      tempDirs.push(dir);
      return `sqlite:${join(dir, 'ras.db')}`;
    },
  };
}

/**
 * Runs `suite` once per database: SQLite always, PostgreSQL when the run has one (always under CI=true,
 * where global setup fails rather than skip).
 */
export function describeEachDatabase(title: string, suite: (db: TestDatabase) => void): void {
  const postgresUrl = inject('postgresUrl');
  const databases: TestDatabase[] = [sqliteDatabase()];
  if (postgresUrl) databases.push({ name: 'postgres', url: () => postgresUrl });
  for (const db of databases) describe(`${title} [${db.name}]`, () => suite(db));
  if (!postgresUrl) describe.skip(`${title} [postgres: NOT REACHABLE, SKIPPED]`, () => undefined);
  afterAll(() => {
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

/** Runs `suite` on PostgreSQL when the run has one (always under CI=true), else on SQLite. */
export function describeOneDatabase(title: string, suite: (db: TestDatabase) => void): void {
  const postgresUrl = inject('postgresUrl');
  const db: TestDatabase = postgresUrl ? { name: 'postgres', url: () => postgresUrl } : sqliteDatabase();
  describe(`${title} [${db.name}]`, () => suite(db));
  afterAll(() => {
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Runs `suite` once per store Ras can run on: SQLite, PostgreSQL, and PostgreSQL with the login throttle and
 * rate limits in Redis (`env` carries REDIS_URL). Under CI=true every one runs.
 */
export function describeEachStore(
  title: string,
  suite: (db: TestDatabase, env: Record<string, string>) => void,
): void {
  describeEachDatabase(title, (db) => suite(db, {}));
  const postgresUrl = inject('postgresUrl');
  const redisUrl = inject('redisUrl');
  if (postgresUrl && redisUrl)
    describe(`${title} [postgres + redis]`, () =>
      suite({ name: 'postgres', url: () => postgresUrl }, { REDIS_URL: redisUrl }));
  else describe.skip(`${title} [postgres + redis: NOT REACHABLE, SKIPPED]`, () => undefined);
}

/**
 * Configuration for an app under test. The per-address rate limits are off by default (every test request
 * comes from 127.0.0.1; the rate-limit tests turn them on); the per-account login throttle is always on.
 */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', RATE_LIMIT: 'off', ...env });
}

/** A real app on a real database; close it when done. */
export function buildTestApp(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: AppOptions = {},
): Promise<FastifyInstance> {
  return buildApp(testConfig(databaseUrl, env), options);
}

/** An email nobody else in the run uses (the PostgreSQL database is shared by every test file). */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomUUID()}@example.com`;
}

export const PASSWORD = 'correct horse battery staple';

export interface TestAccount {
  id: number;
  email: string;
  token: string;
}

export async function signupAccount(
  app: FastifyInstance,
  email = uniqueEmail(),
  headers: Record<string, string> = {},
): Promise<TestAccount> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/users/signup/',
    headers,
    payload: { email, password: PASSWORD },
  });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const { result } = res.json<{ result: { id: number; email: string; auth_token: string } }>();
  return { id: result.id, email: result.email, token: result.auth_token };
}

export async function loginAccount(
  app: FastifyInstance,
  email: string,
  password = PASSWORD,
): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json<{ result: { auth_token: string } }>().result.auth_token;
}

export function authHeader(token: string): Record<string, string> {
  return { authorization: `Token ${token}` };
}

/**
 * A PostgreSQL database of the caller's own, for tests that cut connections and must not disturb the other
 * files sharing the run's database. Returns its URL and a function that drops it.
 */
export async function privatePostgresDatabase(): Promise<{
  url: string;
  admin: pg.Client;
  drop: () => Promise<void>;
}> {
  const adminUrl = inject('postgresAdminUrl');
  if (!adminUrl) throw new Error('no PostgreSQL in this run');
  const name = `ras_private_${Date.now()}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    admin,
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * A database for this suite alone: SQLite a new file, PostgreSQL a private database dropped after the file.
 * For suites with mail: every app with SMTP configured delivers whatever the outbox of its database holds,
 * so two suites sharing one PostgreSQL database would deliver each other's mail to their own test relays.
 */
export async function databaseOfItsOwn(
  db: TestDatabase,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (db.name === 'sqlite') return { url: db.url(), drop: async () => undefined };
  const { url, drop } = await privatePostgresDatabase();
  return { url, drop };
}

/** An operator acting outside any request (what the CLI passes), for tests calling the domain directly. */
export const OPERATOR = { ip: null, userAgent: null, actor: { type: 'cli' as const, name: 'test' } };

/** An MFA_KEY for tests (32 bytes, base64): seals webhook and TOTP secrets. */
export const TEST_MFA_KEY = Buffer.alloc(32, 7).toString('base64');

/** Resolves once another session is waiting for a lock this PostgreSQL client holds (a forced interleaving). */
export async function untilBlockedBy(holder: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await holder.query<{ n: string }>(
      'select count(*) as n from pg_stat_activity where pg_blocking_pids(pid) @> array[pg_backend_pid()]',
    );
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
