/**
 * Import throughput on a large Django database: the committed fixture's schema (made by Django) filled with
 * N users and N DRF tokens in bulk, imported into a fresh Ras database (SQLite, or DATABASE_URL if set).
 *
 *   node --import tsx bench/import-large.ts [users=200000]
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { importFromDjango } from '../src/import/django.js';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';

const users = Number(process.argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'ras-import-large-'));
const sourceFile = join(dir, 'django.sqlite3');
copyFileSync(fileURLToPath(new URL('../test/fixtures/django/django.sqlite3', import.meta.url)), sourceFile);

const source = await openDatabase(`sqlite:${sourceFile}`);
const hash = (await sql<{ password: string }>`select password from auth_user where id = 1`.execute(source.db))
  .rows[0]!.password;
await sql`delete from authtoken_token`.execute(source.db);
await sql`delete from auth_user`.execute(source.db);
const series = sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${users}) select n from seq`;
await sql`insert into auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
  select n, ${hash}, 0, 'user' || n, '', '', 'User' || n || '@Example.com', 0, 1, '2024-01-01 00:00:00.000000' from (${series})`.execute(
  source.db,
);
await sql`insert into authtoken_token (key, created, user_id)
  select printf('%040x', n), '2024-01-01 00:00:00.000000', n from (${series})`.execute(source.db);

const targetUrl = process.env.DATABASE_URL ?? `sqlite:${join(dir, 'ras.db')}`;
const target = await openDatabase(targetUrl);
await migrateToLatest(target.db);
const rssBefore = process.memoryUsage().rss;
let peak = rssBefore;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const report = await importFromDjango(target, {
  source,
  table: 'auth_user',
  emailColumn: 'email',
  tokenTable: 'authtoken_token',
  dryRun: false,
  acceptUnsalted: false,
  batchSize: 1000,
  sessionTtlMs: 30 * 24 * 3600 * 1000,
  now: Date.now,
});
clearInterval(sampler);
console.log(
  `${users.toLocaleString()} users + ${users.toLocaleString()} tokens into ${target.dialect}: ${report.seconds.toFixed(1)} s, ` +
    `${Math.round(users / report.seconds).toLocaleString()} users/s (tokens included), ` +
    `imported ${report.users.imported} users and ${report.sessions.imported} sessions, ` +
    `RSS +${((peak - rssBefore) / 2 ** 20).toFixed(0)} MB at most`,
);
await source.close();
await target.close();
rmSync(dir, { recursive: true, force: true });
