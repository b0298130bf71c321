/**
 * Fills a Ras database with users and sessions in bulk, in the database itself (one INSERT … SELECT over a
 * generated series per table), not through the API: 100,000 users and 1,000,000 sessions take seconds.
 * Every user shares one real argon2id hash; every session gets a distinct, unguessable-looking token hash.
 *
 *   node --import tsx bench/seed.ts --database-url sqlite:./data/bench.db --users 100000 --sessions 1000000
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { sql } from 'kysely';
import { PasswordHasher } from '../src/crypto/passwords.js';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';

export interface SeedCounts {
  users: number;
  sessions: number;
}

export async function seedDatabase(databaseUrl: string, { users, sessions }: SeedCounts): Promise<number> {
  const started = performance.now();
  const database = await openDatabase(databaseUrl);
  try {
    await migrateToLatest(database.db);
    const db = database.db;
    const tag = randomBytes(4).toString('hex');
    const hash = await new PasswordHasher(1).hash(randomBytes(16).toString('hex'));
    const now = Date.now();
    const expires = now + 30 * 24 * 3600 * 1000;
    const postgres = database.dialect === 'postgres';
    const series = (count: number) =>
      postgres
        ? sql`select n from generate_series(1, ${count}) as n`
        : sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${count}) select n from seq`;

    process.stderr.write(`seeding ${users.toLocaleString()} users… `);
    await sql`insert into users (email, password_hash, is_active, date_joined)
      select 'seed-' || ${tag} || '-' || n || '@example.com', ${hash}, 1, ${now} from (${series(users)}) as s`.execute(
      db,
    );
    const first = await db
      .selectFrom('users')
      .select((eb) => eb.fn.min('id').as('id'))
      .where('email', 'like', `seed-${tag}-%`)
      .executeTakeFirstOrThrow();
    const firstId = Number(first.id);

    process.stderr.write(`${sessions.toLocaleString()} sessions… `);
    const tokenHash = postgres ? sql`${tag} || lpad(n::text, 56, '0')` : sql`${tag} || printf('%056d', n)`;
    await sql`insert into sessions (user_id, token_hash, created_at, expires_at, last_seen_at, user_agent, ip)
      select ${firstId} + (n % ${users}), ${tokenHash}, ${now}, ${expires}, ${now}, 'seed', '10.0.0.1'
      from (${series(sessions)}) as s`.execute(db);
    if (postgres) await sql`analyze`.execute(db);
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`done in ${seconds.toFixed(1)} s\n`);
    return seconds;
  } finally {
    await database.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const options = new Command('bench-seed')
    .requiredOption('--database-url <url>', 'sqlite:<path> or postgres://…')
    .option('--users <n>', 'users to add', '100000')
    .option('--sessions <n>', 'sessions to add', '1000000')
    .parse()
    .opts<{ databaseUrl: string; users: string; sessions: string }>();
  await seedDatabase(options.databaseUrl, {
    users: Number(options.users),
    sessions: Number(options.sessions),
  });
}
