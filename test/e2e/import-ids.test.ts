/**
 * `ras import django` with 64-bit ids and all-or-nothing writes (issue 22), into SQLite and PostgreSQL: Django's
 * BigAutoField ids up to 2^53−1 keep their ids and their DRF tokens; an import that fails half way leaves the
 * target exactly as it was; a second import changes nothing.
 */
import { execFileSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { importFromDjango } from '../../src/import/django.js';
import { openSource } from '../../src/import/source.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { buildTestApp, databaseOfItsOwn, describeEachDatabase, PASSWORD, uniqueEmail } from '../helpers.js';
import { runCli } from './processes.js';
import { loadBetterSqlite3 } from '../../src/store/sqlite-module.js';

/** better-sqlite3 in the major that works on this Node.js (see sqlite-module.ts). */
const Database = await loadBetterSqlite3();

const BIG = 2 ** 31 + 7;
const LARGEST = Number.MAX_SAFE_INTEGER;
const HASH = 'pbkdf2_sha256$1000$salt$' + pbkdf2Sync(PASSWORD, 'salt', 1000, 32, 'sha256').toString('base64');

/** A Django-shaped SQLite source with these users, each with a DRF token named after its id. */
function djangoSource(ids: number[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ras-bigids-')), 'django.sqlite3');
  const db = new Database(file);
  db.exec(`create table auth_user (id integer primary key, email text, password text, is_active integer, date_joined text);
           create table authtoken_token (key text primary key, created text, user_id integer)`);
  for (const id of ids) {
    db.prepare('insert into auth_user values (?, ?, ?, 1, ?)').run(
      id,
      `u${id}@example.com`,
      HASH,
      '2024-01-01 00:00:00',
    );
    db.prepare('insert into authtoken_token values (?, ?, ?)').run(tokenOf(id), '2024-01-01 00:00:00', id);
  }
  db.close();
  return `sqlite:${file}`;
}

const tokenOf = (id: number) => id.toString(16).padStart(40, 'a');

/** Every row of every table of the target, as text (PostgreSQL through `pg_dump --data-only`). */
function dump(url: string): string {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      const tables = db
        .prepare(`select name from sqlite_master where type = 'table' order by name`)
        .all() as {
        name: string;
      }[];
      return tables
        .map(({ name }) => `${name}:${JSON.stringify(db.prepare(`select * from "${name}"`).all())}`)
        .join('\n');
    } finally {
      db.close();
    }
  }
  // pg_dump guards its output with a random \restrict key each run: not data.
  return execFileSync('pg_dump', ['--data-only', url], { encoding: 'utf8' }).replace(
    /^\\(un)?restrict .*$/gm,
    '',
  );
}

describeEachDatabase('ras import django: 64-bit ids, all or nothing', (database) => {
  let target: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    target = await databaseOfItsOwn(database);
  });
  afterAll(() => target.drop());

  it('keeps ids 2^31+7 and 2^53−1 and their DRF tokens; a second import reports all present and changes nothing', async () => {
    const source = djangoSource([5, BIG, LARGEST]);
    const env = { DATABASE_URL: target.url };
    const first = await runCli(['import', 'django', '--from', source, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ users: { imported: 3 }, sessions: { imported: 3 } });
    const before = dump(target.url);
    const second = await runCli(['import', 'django', '--from', source, '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      users: { imported: 0, alreadyPresent: 3 },
      sessions: { imported: 0, alreadyPresent: 3 },
    });
    expect(dump(target.url)).toBe(before);

    const app = await buildTestApp(target.url);
    try {
      for (const id of [5, BIG, LARGEST]) {
        const me = await app.inject({
          url: `/api/v1/users/${id}/`,
          headers: { authorization: `Token ${tokenOf(id)}` },
        });
        expect(me.json()).toEqual({ id, email: `u${id}@example.com`, auth_token: tokenOf(id) });
        const login = await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: `u${id}@example.com`, password: PASSWORD },
        });
        expect(login.json<{ result: { id: number } }>().result.id).toBe(id);
      }
      // An id beyond 2^53−1 names no account (a client could not tell it from its neighbour): a foreign id.
      const beyond = await app.inject({
        url: '/api/v1/users/9007199254740993/',
        headers: { authorization: `Token ${tokenOf(LARGEST)}` },
      });
      expect(beyond.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
    } finally {
      await app.close();
    }
  });

  it('moves the id sequence only past imported ids: a signup after importing 2^31+7 gets the next id', async () => {
    const own = await databaseOfItsOwn(database);
    try {
      // 2^53 is refused (over 2^53−1): the sequence must not move past it.
      const source = djangoSource([BIG, 2 ** 53]);
      const run = await runCli(['import', 'django', '--from', source, '--json', '--allow-refusals'], {
        DATABASE_URL: own.url,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ refused: { id_too_large: { examples: [2 ** 53] } } });
      const app = await buildTestApp(own.url);
      try {
        const signup = await app.inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          payload: { email: uniqueEmail('after'), password: PASSWORD },
        });
        expect(signup.statusCode).toBe(201);
        expect(signup.json<{ result: { id: number } }>().result.id).toBe(BIG + 1);
      } finally {
        await app.close();
      }
    } finally {
      await own.drop();
    }
  });

  it('leaves the target exactly as it was when the import fails half way', async () => {
    const own = await databaseOfItsOwn(database);
    try {
      const config = loadConfig({ DATABASE_URL: own.url, LOG_LEVEL: 'silent' });
      const ids = Array.from({ length: 50 }, (_, i) => 100 + i);
      const target = await openDatabase(config.database);
      await migrateToLatest(target.db);
      const app = await buildTestApp(own.url);
      await app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail('present'), password: PASSWORD },
      });
      await app.close();
      const before = dump(own.url);
      const source = await openSource(djangoSource(ids));
      try {
        const failing = importFromDjango(target, {
          source,
          table: 'auth_user',
          emailColumn: 'email',
          tokenTable: 'authtoken_token',
          batchSize: 10,
          dryRun: false,
          acceptUnsalted: false,
          sessionTtlMs: 60_000,
          now: Date.now,
          // A fault after 30 users were written (three batches), before the tokens.
          onProgress: (_phase, done) => {
            if (done >= 30) throw new Error('injected fault');
          },
        });
        await expect(failing).rejects.toThrow('injected fault');
      } finally {
        await source.close();
        await target.close();
      }
      expect(dump(own.url)).toBe(before);
    } finally {
      await own.drop();
    }
  });
});
