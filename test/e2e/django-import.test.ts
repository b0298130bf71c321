import { execFileSync } from 'node:child_process';
import { createHash, pbkdf2Sync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTestApp, PASSWORD, privatePostgresDatabase, uniqueEmail } from '../helpers.js';
import { runCli } from './processes.js';

interface FixtureUser {
  id: number;
  email: string;
  password: string;
  hasher: string;
  token: string | null;
  is_active: boolean;
  expect: 'imported' | 'refused';
}

const FIXTURES = fileURLToPath(new URL('../fixtures/django/', import.meta.url));
const DJANGO_PYTHON = '/usr/bin/python3';

function djangoAvailable(): boolean {
  try {
    execFileSync(DJANGO_PYTHON, ['-c', 'import django, rest_framework, argon2, bcrypt, psycopg2, MySQLdb'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

interface Source {
  url: string;
  manifest: FixtureUser[];
  cleanup: () => Promise<void>;
}

/** The committed SQLite database made by Django (make_fixture.py), copied so the test cannot change it. */
async function sqliteSource(): Promise<Source> {
  const file = join(mkdtempSync(join(tmpdir(), 'ras-django-')), 'django.sqlite3');
  copyFileSync(join(FIXTURES, 'django.sqlite3'), file);
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as FixtureUser[];
  return { url: `sqlite:${file}`, manifest, cleanup: async () => undefined };
}

/** A MariaDB (MySQL) database made by Django itself, now, with make_fixture.py. */
async function mysqlSource(): Promise<Source> {
  const { createConnection } = await import('mysql2/promise');
  const admin = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  const name = `ras_django_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await admin.query(`create database ${name}`);
  const manifestFile = join(mkdtempSync(join(tmpdir(), 'ras-django-my-')), 'manifest.json');
  execFileSync(DJANGO_PYTHON, [
    join(FIXTURES, 'make_fixture.py'),
    '--mysql',
    name,
    '--manifest',
    manifestFile,
  ]);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as FixtureUser[];
  return {
    url: `mysql://root@127.0.0.1:3306/${name}`,
    manifest,
    cleanup: async () => {
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
}

/** A PostgreSQL database made by Django itself, now, with make_fixture.py. */
async function postgresSource(): Promise<Source> {
  const db = await privatePostgresDatabase();
  const name = new URL(db.url).pathname.slice(1);
  const manifestFile = join(mkdtempSync(join(tmpdir(), 'ras-django-pg-')), 'manifest.json');
  execFileSync(DJANGO_PYTHON, [
    join(FIXTURES, 'make_fixture.py'),
    '--postgres',
    name,
    '--manifest',
    manifestFile,
  ]);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as FixtureUser[];
  return { url: db.url, manifest, cleanup: db.drop };
}

function describeImport(
  title: string,
  makeSource: () => Promise<Source>,
  target: () => Promise<{ url: string; cleanup: () => Promise<void> }>,
) {
  describe(title, () => {
    let source: Source;
    let targetUrl: string;
    let cleanupTarget: () => Promise<void>;
    let app: FastifyInstance;
    let firstRun: { code: number | null; stdout: string; stderr: string };
    beforeAll(async () => {
      source = await makeSource();
      ({ url: targetUrl, cleanup: cleanupTarget } = await target());
      firstRun = await runCli(['import', 'django', '--from', source.url, '--json', '--allow-refusals'], {
        DATABASE_URL: targetUrl,
      });
      app = await buildTestApp(targetUrl);
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await source?.cleanup();
      await cleanupTarget?.();
    });

    const imported = () => source.manifest.filter((u) => u.expect === 'imported' && u.hasher !== 'unusable');
    const login = (email: string, password: string) =>
      app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });

    it('reports what it imported and what it refused, with reasons', () => {
      expect(firstRun.code, firstRun.stderr).toBe(0);
      const report = JSON.parse(firstRun.stdout) as {
        users: { imported: number; unusablePassword: number };
        sessions: { imported: number };
        pendingUpgrade: number;
        refused: Record<string, { reason: string; examples: number[] }>;
      };
      const expected = source.manifest.filter((u) => u.expect === 'imported');
      expect(report.users.imported).toBe(expected.length);
      expect(report.users.unusablePassword).toBe(1);
      expect(report.pendingUpgrade).toBe(expected.length - 1);
      expect(report.sessions.imported).toBe(expected.filter((u) => u.token).length);
      const refusedIds = Object.values(report.refused).flatMap((r) => r.examples);
      for (const user of source.manifest.filter((u) => u.expect === 'refused'))
        expect(refusedIds).toContain(user.id);
      expect(Object.keys(report.refused).sort()).toEqual(
        [
          'email_duplicate',
          'email_invalid',
          'hash_weak_md5',
          'hash_weak_sha1',
          'hash_weak_unsalted_md5',
          'hash_weak_unsalted_sha1',
          'token_orphaned',
        ].sort(),
      );
      expect(report.refused.email_duplicate?.reason).toMatch(/duplicate email after normalization/);
      const duplicate = source.manifest.find((u) => u.email === 'dup@example.com')!;
      const first = source.manifest.find((u) => u.email === 'Dup@Example.com')!;
      expect((report.refused.email_duplicate as { collisions?: unknown[] }).collisions).toEqual([
        { id: duplicate.id, withId: first.id },
      ]);
    });

    it('lets every user log in with the original password, keeping the id, and upgrades the hash to argon2id', async () => {
      for (const user of imported().filter((u) => u.is_active)) {
        const res = await login(user.email, user.password);
        expect(res.statusCode, `${user.hasher}: ${res.body}`).toBe(200);
        expect(res.json<{ result: { id: number } }>().result.id).toBe(user.id);
        expect((await login(user.email, `${user.password}!`)).statusCode).toBe(400);
      }
      const show = await runCli(['users', 'show', 'pbkdf2@example.com'], { DATABASE_URL: targetUrl });
      expect(JSON.parse(show.stdout)).toMatchObject({ id: 1, is_active: true });
      const [argon2idUser] = imported();
      // The next login verifies against argon2id: the Django hash is gone.
      expect((await login(argon2idUser!.email, argon2idUser!.password)).statusCode).toBe(200);
    });

    it('keeps a deactivated user deactivated, and an unusable password unusable', async () => {
      const inactive = source.manifest.find((u) => !u.is_active)!;
      expect((await login(inactive.email, inactive.password)).body).toBe(
        '{"status_code":404,"message":"This account has been deactivated"}',
      );
      expect((await login('unusable@example.com', '')).statusCode).toBe(400);
      expect((await login('unusable@example.com', 'anything at all')).statusCode).toBe(400);
    });

    it('keeps every DRF token working: it retrieves its user and logs out', async () => {
      for (const user of imported().filter((u) => u.token && u.is_active)) {
        const me = await app.inject({
          url: `/api/v1/users/${user.id}/`,
          headers: { authorization: `Token ${user.token}` },
        });
        expect(me.statusCode, user.hasher).toBe(200);
        expect(me.json()).toEqual({
          id: user.id,
          email: user.email.trim().toLowerCase().normalize('NFKC'),
          auth_token: user.token,
        });
      }
      const one = imported().find((u) => u.token && u.is_active)!;
      const logout = await app.inject({
        method: 'POST',
        url: `/api/v1/users/${one.id}/logout/`,
        headers: { authorization: `Token ${one.token}` },
      });
      expect(logout.statusCode).toBe(200);
      const after = await app.inject({
        url: `/api/v1/users/${one.id}/`,
        headers: { authorization: `Token ${one.token}` },
      });
      expect(after.body).toBe('{"message":"Invalid Token"}');
    });

    it('changes nothing on a second run, and says so', async () => {
      const again = await runCli(['import', 'django', '--from', source.url, '--json', '--allow-refusals'], {
        DATABASE_URL: targetUrl,
      });
      expect(again.code).toBe(0);
      const report = JSON.parse(again.stdout) as {
        users: { imported: number; alreadyPresent: number };
        sessions: { imported: number };
      };
      expect(report.users.imported).toBe(0);
      expect(report.users.alreadyPresent).toBe(source.manifest.filter((u) => u.expect === 'imported').length);
      expect(report.sessions.imported).toBe(1); // only the token logged out above comes back
    });

    it('gives a signup after the import a fresh id, past the imported ones (never past a refused one)', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail(), password: PASSWORD },
      });
      expect(res.statusCode).toBe(201);
      const imported = source.manifest.filter((u) => u.expect === 'imported').map((u) => u.id);
      expect(res.json<{ result: { id: number } }>().result.id).toBe(Math.max(...imported) + 1);
    });
  });
}

const postgresAdmin = inject('postgresAdminUrl');
const pgTarget = async () => {
  const db = await privatePostgresDatabase();
  return { url: db.url, cleanup: db.drop };
};
const sqliteTarget = async () => ({
  url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'ras-target-')), 'ras.db')}`,
  cleanup: async () => undefined,
});

describeImport('ras import django: SQLite made by Django → Ras on SQLite', sqliteSource, sqliteTarget);
if (postgresAdmin)
  describeImport('ras import django: SQLite made by Django → Ras on PostgreSQL', sqliteSource, pgTarget);

const django = djangoAvailable();
if (!django) {
  if (process.env.CI === 'true')
    throw new Error(`CI=true but Django is not importable by ${DJANGO_PYTHON} (see .ci/run)`);
  console.warn(
    `\n!!! Django (python3-django etc.) not available to ${DJANGO_PYTHON}: the PostgreSQL-made-by-Django import test is SKIPPED\n`,
  );
}
if (postgresAdmin && django) {
  describeImport(
    'ras import django: PostgreSQL made by Django → Ras on PostgreSQL',
    postgresSource,
    pgTarget,
  );
}
if (django) {
  describeImport('ras import django: MariaDB made by Django → Ras on SQLite', mysqlSource, sqliteTarget);
  if (postgresAdmin)
    describeImport('ras import django: MariaDB made by Django → Ras on PostgreSQL', mysqlSource, pgTarget);
}

it('--dry-run reports the same counts and writes nothing', async () => {
  const source = await sqliteSource();
  const target = await sqliteTarget();
  const dry = await runCli(
    ['import', 'django', '--from', source.url, '--dry-run', '--json', '--allow-refusals'],
    {
      DATABASE_URL: target.url,
    },
  );
  expect(dry.code, dry.stderr).toBe(0);
  const report = JSON.parse(dry.stdout) as {
    dryRun: boolean;
    users: { imported: number };
    sessions: { imported: number };
  };
  expect(report.dryRun).toBe(true);
  expect(report.users.imported).toBe(source.manifest.filter((u) => u.expect === 'imported').length);
  const shown = await runCli(['users', 'show', 'pbkdf2@example.com'], { DATABASE_URL: target.url });
  expect(shown.code).toBe(1);
});

it('has a fixture to import', () => {
  expect(existsSync(join(FIXTURES, 'django.sqlite3'))).toBe(true);
});

export type { pg };

describe('ras import django never touches its source, and survives a hostile one', () => {
  const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('leaves a SQLite source byte for byte as it was (journal mode too) after a dry run and an import', async () => {
    const source = await sqliteSource();
    const file = source.url.slice('sqlite:'.length);
    const before = digest(file);
    const target = await sqliteTarget();
    for (const extra of [['--dry-run'], []]) {
      const run = await runCli(['import', 'django', '--from', source.url, '--allow-refusals', ...extra], {
        DATABASE_URL: target.url,
      });
      expect(run.code, run.stderr).toBe(0);
    }
    expect(digest(file)).toBe(before);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const SqliteDatabase = (await import('better-sqlite3')).default;
    const check = new SqliteDatabase(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('says "file not found" for a missing SQLite source and creates nothing', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'ras-missing-')), 'no', 'such', 'db.sqlite3');
    const target = await sqliteTarget();
    const run = await runCli(['import', 'django', '--from', `sqlite:${missing}`], {
      DATABASE_URL: target.url,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/file not found/);
    expect(existsSync(join(missing, '..', '..'))).toBe(false);
  });

  it('exits 65 when rows were refused, 0 with --allow-refusals; says "would import" on a dry run', async () => {
    const source = await sqliteSource();
    const target = await sqliteTarget();
    const dry = await runCli(['import', 'django', '--from', source.url, '--dry-run'], {
      DATABASE_URL: target.url,
    });
    expect(dry.code).toBe(65);
    expect(dry.stdout).toMatch(/would import/);
  });

  it('names the option in usage errors and exits 2', async () => {
    const env = { DATABASE_URL: (await sqliteTarget()).url };
    for (const [args, option] of [
      [['--batch-size', '0'], '--batch-size'],
      [['--batch-size', 'abc'], '--batch-size'],
    ] as const) {
      const run = await runCli(['import', 'django', '--from', 'sqlite:/nowhere', ...args], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(option);
    }
    const noScheme = await runCli(['import', 'django', '--from', '/srv/django/db.sqlite3'], env);
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toContain('--from');
  });

  it('refuses impossible ids and out-of-bounds hashes, falls back on unreadable dates, and imports the rest', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ras-hostile-')), 'django.sqlite3');
    const SqliteDatabase = (await import('better-sqlite3')).default;
    const db = new SqliteDatabase(file);
    db.exec(`create table auth_user (id integer primary key, email text, password text, is_active integer, date_joined text);
             create table authtoken_token (key text primary key, created text, user_id integer)`);
    const good =
      'pbkdf2_sha256$1000$salt$' +
      pbkdf2Sync('hostile test password', 'salt', 1000, 32, 'sha256').toString('base64');
    const insert = db.prepare('insert into auth_user values (?, ?, ?, 1, ?)');
    insert.run(-5, 'negative@example.com', good, '2024-01-01 00:00:00');
    insert.run(0, 'zero@example.com', good, '2024-01-01 00:00:00');
    insert.run(2 ** 53, 'huge@example.com', good, '2024-01-01 00:00:00');
    insert.run(4, 'slow@example.com', 'pbkdf2_sha256$2000000000$salt$aGFzaA==', '2024-01-01 00:00:00');
    insert.run(
      5,
      'bigmem@example.com',
      'argon2$argon2id$v=19$m=1048576,t=2,p=1$c2FsdA$aGFzaA',
      '2024-01-01 00:00:00',
    );
    insert.run(6, 'baddate@example.com', good, 'yesterday-ish');
    insert.run(7, 'nulldate@example.com', good, null);
    insert.run(8, 'fine@example.com', good, '2024-01-01 00:00:00');
    db.prepare('insert into authtoken_token values (?, ?, ?)').run('a'.repeat(40), '1e300', 8);
    db.close();
    const target = await sqliteTarget();
    const env = { DATABASE_URL: target.url };
    const run = await runCli(
      ['import', 'django', '--from', `sqlite:${file}`, '--json', '--allow-refusals'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      users: { imported: number };
      refused: Record<string, { examples: number[] }>;
      fallbacks: Record<string, { examples: number[] }>;
    };
    expect(report.users.imported).toBe(3);
    expect(report.refused.id_not_positive?.examples).toEqual([-5, 0]);
    expect(report.refused.id_too_large?.examples).toEqual([2 ** 53]);
    expect(report.refused.hash_out_of_bounds?.examples).toEqual([4, 5]);
    expect(report.fallbacks.date_joined_unreadable?.examples).toEqual([6, 7]);
    for (const email of ['baddate@example.com', 'fine@example.com']) {
      const shown = await runCli(['users', 'show', email], env);
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toHaveProperty('date_joined');
    }
  });
});
