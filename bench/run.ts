/**
 * `npm run bench`: Ras against a raw node:http ceiling, in one run, on this machine.
 *
 * Servers run in child processes pinned to core 0, the load generator (autocannon, bench/load.ts) in its own
 * process pinned to core 1, when taskset exists. Ras runs with its production defaults, plus TRUST_PROXY for
 * loopback: the load generator stands for many clients behind one reverse proxy, each request with its own
 * X-Forwarded-For, so the per-address limits apply per simulated client (as in production) instead of turning
 * the whole benchmark into a 429 test. Ratios are what to read: absolute numbers drift on shared machines.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import {
  createAccount,
  freePort,
  load,
  metric,
  PASSWORD,
  pinned,
  pinning,
  ROOT,
  type Server,
  profileRasInto,
  startRas,
  startServer,
} from './harness.js';
import type { LoadResult, LoadSpec } from './load.js';
import { EVENT_LOOP_RESOLUTION_MS } from '../src/http/metrics.js';
import { seedDatabase } from './seed.js';

/**
 * The authenticated GETs come from one client backend, behind the reverse proxy Ras trusts (TRUST_PROXY): the
 * proxy names it in X-Forwarded-For, as it names every client. The raw server gets the same request.
 */
const FROM_BACKEND = { 'x-forwarded-for': '10.1.0.1' };

const SCENARIOS = ['me', 'bad-token', 'login', 'signup', 'me-during-logins', 'me-large'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Options {
  quick: boolean;
  duration: number;
  warmup: number;
  connections: number;
  scenarios: Scenario[];
  databases: ('sqlite' | 'postgres')[];
  largeUsers: number;
  largeSessions: number;
  profile: boolean;
}

interface Row extends LoadResult {
  scenario: string;
  database: string;
  peakRssMb: number;
}

// ---------------------------------------------------------------- databases

interface BenchDatabase {
  name: 'sqlite' | 'postgres';
  url: string;
  drop: () => Promise<void>;
}

async function createDatabase(name: 'sqlite' | 'postgres', label: string): Promise<BenchDatabase | null> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ras-bench-'));
    return {
      name,
      url: `sqlite:${join(dir, `${label}.db`)}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    console.error(`PostgreSQL not reachable at ${adminUrl}: skipping its scenarios`);
    return null;
  }
  const db = `ras_bench_${label}_${Date.now()}`;
  await admin.query(`create database ${db}`);
  const url = new URL(adminUrl);
  url.pathname = `/${db}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${db} with (force)`);
      await admin.end();
    },
  };
}

// ---------------------------------------------------------------- scenarios

function spec(
  ras: Server,
  options: Options,
  overrides: Partial<LoadSpec> & Pick<LoadSpec, 'path'>,
): LoadSpec {
  return {
    url: ras.url,
    method: 'GET',
    headers: {},
    spreadClients: false,
    connections: options.connections,
    durationSeconds: options.duration,
    warmupSeconds: options.warmup,
    expectedStatus: 200,
    ...overrides,
  };
}

async function measure(
  rows: Row[],
  server: Server,
  scenario: string,
  database: string,
  run: () => Promise<LoadResult>,
) {
  server.resetPeak();
  const result = await run();
  const row = { scenario, database, ...result, peakRssMb: server.peakRssMb() };
  rows.push(row);
  console.error(
    `  ${scenario.padEnd(18)} ${database.padEnd(8)} ${row.requestsPerSecond.toFixed(0).padStart(7)} req/s`,
  );
}

async function rasScenarios(
  name: 'sqlite' | 'postgres',
  options: Options,
  rows: Row[],
  extras: Record<string, number>,
) {
  const want = (s: Scenario) => options.scenarios.includes(s);
  const small = await createDatabase(name, 'small');
  if (!small) return;
  try {
    await seedDatabase(small.url, { users: 1000, sessions: 1000 });
    const ras = await startRas(small.url);
    try {
      const account = await createAccount(ras);
      const me = `/api/v1/users/${account.id}/`;
      const auth = { authorization: `Token ${account.token}`, ...FROM_BACKEND };
      const credentials = { kind: 'fixed' as const, json: { email: account.email, password: PASSWORD } };
      if (want('me'))
        await measure(rows, ras, 'me', name, () => load(spec(ras, options, { path: me, headers: auth })));
      if (want('bad-token')) {
        const bad = { authorization: `Token ras_${randomBytes(32).toString('base64url')}` };
        await measure(rows, ras, 'bad-token', name, () =>
          load(spec(ras, options, { path: me, headers: bad, spreadClients: true, expectedStatus: 401 })),
        );
      }
      const hashing = { method: 'POST' as const, spreadClients: true, connections: 16 };
      if (want('login')) {
        await measure(rows, ras, 'login', name, () =>
          load(spec(ras, options, { path: '/api/v1/users/login/', body: credentials, ...hashing })),
        );
      }
      if (want('signup')) {
        const body = { kind: 'signup' as const, password: PASSWORD };
        await measure(rows, ras, 'signup', name, () =>
          load(spec(ras, options, { path: '/api/v1/users/signup/', body, expectedStatus: 201, ...hashing })),
        );
      }
    } finally {
      await ras.stop();
    }

    if (want('me-during-logins')) {
      // A separate server with METRICS_PORT: the event-loop delay is read from its own monitor.
      const metricsPort = await freePort();
      const stormed = await startRas(small.url, { METRICS_PORT: String(metricsPort) });
      try {
        const account = await createAccount(stormed);
        // The storm logs in to an account of its own: beyond SESSIONS_MAX (100) sessions the oldest end, and
        // the `me` token would be among them.
        const stormAccount = await createAccount(stormed);
        const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
        await metric(metricsUrl, 'nodejs_eventloop_lag_p99_seconds'); // resets the delay histogram
        const credentials = {
          kind: 'fixed' as const,
          json: { email: stormAccount.email, password: PASSWORD },
        };
        const storm = load(
          spec(stormed, options, {
            path: '/api/v1/users/login/',
            method: 'POST',
            body: credentials,
            spreadClients: true,
            connections: 16,
            warmupSeconds: 0,
          }),
        );
        await measure(rows, stormed, 'me-during-logins', name, () =>
          load(
            spec(stormed, options, {
              path: `/api/v1/users/${account.id}/`,
              headers: { authorization: `Token ${account.token}`, ...FROM_BACKEND },
              warmupSeconds: 0,
            }),
          ),
        );
        // The monitor's readings include its own sampling interval (an idle loop reads ~10 ms).
        const p99Ms = (await metric(metricsUrl, 'nodejs_eventloop_lag_p99_seconds')) * 1000;
        extras[`${name}.eventLoopDelayP99Ms`] = Math.max(0, p99Ms - EVENT_LOOP_RESOLUTION_MS);
        await storm;
      } finally {
        await stormed.stop();
      }
    }
  } finally {
    await small.drop();
  }

  if (want('me-large')) {
    const large = await createDatabase(name, 'large');
    if (!large) return;
    try {
      await seedDatabase(large.url, { users: options.largeUsers, sessions: options.largeSessions });
      const ras = await startRas(large.url);
      try {
        const account = await createAccount(ras);
        await measure(rows, ras, 'me-large', name, () =>
          load(
            spec(ras, options, {
              path: `/api/v1/users/${account.id}/`,
              headers: { authorization: `Token ${account.token}`, ...FROM_BACKEND },
            }),
          ),
        );
      } finally {
        await ras.stop();
      }
    } finally {
      await large.drop();
    }
  }
}

async function measureRaw(rows: Row[], options: Options, label: string): Promise<void> {
  const raw = await startServer(['--import', 'tsx', 'bench/raw-server.ts'], {}, /raw server listening/);
  try {
    await measure(rows, raw, label, 'none', () =>
      load(
        spec(raw, options, {
          path: '/api/v1/users/1/',
          headers: { authorization: 'Token x', ...FROM_BACKEND },
        }),
      ),
    );
  } finally {
    await raw.stop();
  }
}

/**
 * Median time of one argon2id verify with Ras's parameters, in seconds, measured on the servers' core
 * (in a child pinned like them), so `login req/s × verify time` compares like with like.
 */
async function argon2VerifySeconds(): Promise<number> {
  const [command, argv] = pinned(0, process.execPath, ['--import', 'tsx', 'bench/verify-time.ts', PASSWORD]);
  const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await once(child, 'exit');
  return Number(output.trim()) / 1000;
}

// ---------------------------------------------------------------- report

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a && b ? a / b : null;
}

function report(rows: Row[], extras: Record<string, number>, verifySeconds: number, options: Options) {
  const rps = (scenario: string, database: string) =>
    rows.find((r) => r.scenario === scenario && r.database === database)?.requestsPerSecond;
  const raw = Math.max(rps('raw', 'none') ?? 0, rps('raw (again)', 'none') ?? 0);
  const ratios: Record<string, number | null> = {};
  for (const db of options.databases) {
    ratios[`${db}: me / raw`] = ratio(rps('me', db), raw);
    ratios[`${db}: bad-token / me`] = ratio(rps('bad-token', db), rps('me', db));
    const login = rps('login', db);
    ratios[`${db}: login req/s × verify time`] = login ? login * verifySeconds : null;
    ratios[`${db}: me with ${options.largeSessions.toLocaleString()} sessions / me with 1,000`] = ratio(
      rps('me-large', db),
      rps('me', db),
    );
    ratios[`${db}: event-loop delay p99 in login storm (ms)`] = extras[`${db}.eventLoopDelayP99Ms`] ?? null;
  }
  ratios['server peak RSS, MB (max of all runs)'] = Math.max(...rows.map((r) => r.peakRssMb));

  const header = ['scenario', 'db', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MB'];
  const lines = rows.map((r) => [
    r.scenario,
    r.database,
    r.requestsPerSecond.toFixed(0),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    String(r.errors),
    r.peakRssMb.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  console.log(
    `\nargon2id verify (m=19456, t=2, p=1) on the servers' core: ${(verifySeconds * 1000).toFixed(1)} ms (median of 15)`,
  );
  for (const [name, value] of Object.entries(ratios)) {
    console.log(`${name.padEnd(62)} ${value === null ? 'n/a' : value.toFixed(value >= 10 ? 0 : 2)}`);
  }
  return ratios;
}

// ---------------------------------------------------------------- main

function parseOptions(): Options {
  const opts = new Command('bench')
    .description('Ras against a raw node:http ceiling (see bench/README.md)')
    .option('--quick', 'short runs and a smaller large database: under a minute, for CI', false)
    .option('--duration <seconds>', 'measured seconds per scenario (default 10, quick 2)')
    .option('--warmup <seconds>', 'warm-up seconds per scenario (default 3, quick 1)')
    .option('--connections <n>', 'connections for the GET scenarios', '50')
    .option('--scenarios <list>', `comma-separated, from ${SCENARIOS.join(',')}`, SCENARIOS.join(','))
    .option('--databases <list>', 'comma-separated: sqlite,postgres', 'sqlite,postgres')
    .option('--profile', 'write a V8 CPU profile of each Ras server to bench/results/profiles/', false)
    .parse()
    .opts<{
      quick: boolean;
      duration?: string;
      warmup?: string;
      connections: string;
      scenarios: string;
      databases: string;
      profile: boolean;
    }>();
  const scenarios = opts.scenarios.split(',').map((s) => s.trim());
  const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  return {
    quick: opts.quick,
    duration: Number(opts.duration ?? (opts.quick ? 2 : 10)),
    warmup: Number(opts.warmup ?? (opts.quick ? 1 : 3)),
    connections: Number(opts.connections),
    scenarios: scenarios as Scenario[],
    databases: opts.databases.split(',').map((d) => d.trim()) as Options['databases'],
    largeUsers: opts.quick ? 10_000 : 100_000,
    largeSessions: opts.quick ? 100_000 : 1_000_000,
    profile: opts.profile,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = Date.now();
  console.error(
    `bench: ${options.quick ? 'quick' : 'full'} run, ${pinning ? 'servers on core 0, load on core 1' : 'no pinning'}`,
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (options.profile) {
    const dir = join(ROOT, 'bench/results/profiles', stamp);
    profileRasInto(dir);
    console.error(`profiles: ${dir} (open in Chrome DevTools or speedscope)`);
  }
  const verifySeconds = await argon2VerifySeconds();
  const rows: Row[] = [];
  const extras: Record<string, number> = {};

  // The ceiling is measured first and last: on a shared machine one reading can be low by chance, and the
  // ratios use the higher of the two.
  await measureRaw(rows, options, 'raw');
  for (const database of options.databases) await rasScenarios(database, options, rows, extras);
  await measureRaw(rows, options, 'raw (again)');

  const ratios = report(rows, extras, verifySeconds, options);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `${stamp}.json`);
  const machine = { cpus: cpus().length, node: process.version, pinned: pinning };
  writeFileSync(
    file,
    JSON.stringify({ options, machine, argon2VerifyMs: verifySeconds * 1000, rows, ratios }, null, 2),
  );
  console.error(`\nwrote ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

await main();
