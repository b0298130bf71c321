/**
 * `npm run bench:admin`: the admin API's searches on PostgreSQL with 1,000,000 users (issue 26's goals: exact
 * email p95 < 5 ms, prefix p95 < 20 ms, the 1000th page within 2x the first).
 *
 * Fills a fresh database with one INSERT … SELECT over generate_series (the bulk path: one statement, no
 * per-row round trip), then times requests through the admin app itself (routing, key check, validation,
 * query, serialization: Fastify's inject, no socket), each kind interleaved with the others so drift hits
 * them alike. Options: --users <n> (default 1,000,000), --samples <n> per kind (default 1,000),
 * --postgres <admin url> (default postgres://postgres@127.0.0.1:5432/postgres). The database is dropped after.
 */
import { randomInt } from 'node:crypto';
import { Command } from 'commander';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { createAdminKey } from '../src/accounts/admin-keys.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/store/database.js';

const options = new Command()
  .option('--users <n>', 'users to create', (v) => Number(v), 1_000_000)
  .option('--samples <n>', 'requests timed per kind', (v) => Number(v), 1_000)
  .option(
    '--postgres <url>',
    'a PostgreSQL URL allowed to create databases',
    'postgres://postgres@127.0.0.1:5432/postgres',
  )
  .parse()
  .opts<{ users: number; samples: number; postgres: string }>();

const name = `ras_bench_admin_${Date.now()}`;
const admin = new pg.Client({ connectionString: options.postgres });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(options.postgres);
url.pathname = `/${name}`;

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

try {
  const app = await buildApp(
    loadConfig({ DATABASE_URL: url.toString(), ADMIN_PORT: '1', LOG_LEVEL: 'silent', RATE_LIMIT: 'off' }),
  );
  const database = await openDatabase(loadConfig({ DATABASE_URL: url.toString() }).database, { poolMax: 2 });
  const db = database.db;
  const fillStarted = performance.now();
  // One argon2id hash for all: the searches never read it.
  const hash = await app.accounts.passwords.hash('a benchmark password');
  await sql`insert into users (email, password_hash, is_active, date_joined, email_verified)
    select 'user' || g || '@example.com', ${hash}, 1, ${Date.now()}::bigint, 0 from generate_series(1, ${options.users}) g`.execute(
    db,
  );
  await sql`analyze users`.execute(db);
  console.log(
    `filled ${options.users.toLocaleString('en')} users in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`,
  );

  const key = await createAdminKey(app.accounts, 'bench', ['users:read'], {
    ip: null,
    userAgent: null,
    actor: { type: 'cli' },
  });
  const firstId = Number(
    (await sql<{ id: string }>`select min(id) as id from users`.execute(db)).rows[0]!.id,
  );
  const time = async (path: string) => {
    const started = performance.now();
    const res = await app.adminApp!.inject({ url: path, headers: { authorization: `Bearer ${key}` } });
    const elapsed = performance.now() - started;
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
    return elapsed;
  };
  const kinds = {
    exact: () => `/admin/v1/users/?email=user${randomInt(1, options.users + 1)}@example.com`,
    prefix: () =>
      `/admin/v1/users/?email_prefix=user${randomInt(1, Math.floor(options.users / 10) + 1)}&limit=100`,
    'wide prefix': () => `/admin/v1/users/?email_prefix=user${randomInt(1, 10)}&limit=100`,
    'first page': () => '/admin/v1/users/?limit=100',
    '1000th page': () => `/admin/v1/users/?limit=100&after=${firstId + 999 * 100 - 1}`,
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < 50; i++) for (const path of Object.values(kinds)) await time(path()); // warm-up
  for (let i = 0; i < options.samples; i++)
    for (const [kind, path] of Object.entries(kinds)) samples[kind]!.push(await time(path()));
  console.log(`${options.samples} requests per kind, interleaved, through the admin app (inject):`);
  for (const [kind, values] of Object.entries(samples))
    console.log(`  ${kind.padEnd(12)} p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}`);
  const ratio = percentile(samples['1000th page']!, 50) / percentile(samples['first page']!, 50);
  console.log(`  1000th page / first page (p50): ${ratio.toFixed(2)}`);
  const plan = await sql<{
    'QUERY PLAN': string;
  }>`explain select * from users where email like 'user123%' order by id limit 101`.execute(db);
  console.log(`  prefix plan: ${plan.rows.map((r) => r['QUERY PLAN'].trim()).join(' | ')}`);
  await app.close();
  await database.close();
} finally {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
