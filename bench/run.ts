/**
 * `npm run bench`: Ras against a raw node:http ceiling, in one run, on this machine.
 *
 * Servers run in child processes pinned to core 0, the load generator (autocannon, bench/load.ts) in its own
 * process pinned to core 1, when taskset exists. Ras runs with its production defaults, plus TRUST_PROXY for
 * loopback: the load generator stands for many clients behind one reverse proxy, each request with its own
 * X-Forwarded-For, so the per-address limits apply per simulated client (as in production) instead of turning
 * the whole benchmark into a 429 test. Ratios are what to read: absolute numbers drift on shared machines.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import {
  createAccount,
  freePort,
  load,
  loadInterleaved,
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
  runs: number;
  pinPostgres: boolean;
}

interface Row extends LoadResult {
  scenario: string;
  database: string;
  /** 1-based: every scenario runs once per run, on a fresh server, between two raw readings. */
  run: number;
  peakRssMb: number;
}

/** Per-run readings that are not request rates (the event-loop delay during the storm), by `db.name`. */
type Extras = Record<string, number[]>;

// ---------------------------------------------------------------- databases

const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

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
  const adminUrl = POSTGRES_ADMIN_URL;
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

/** Where this run's rows go (`measure` tags each with the run), and the raw server to interleave with. */
interface Sink {
  rows: Row[];
  run: number;
  extras: Extras;
  raw: Server;
}

/**
 * A throughput scenario: its measured seconds are cut into slices run in turn on Ras and on the raw server
 * (load.ts), so the ratio compares readings taken seconds apart, not minutes.
 */
function againstRaw(sink: Sink, options: Options, ras: LoadSpec): Promise<LoadResult> {
  const raw = spec(sink.raw, options, {
    path: '/api/v1/users/1/',
    headers: { authorization: 'Token x', ...FROM_BACKEND },
    warmupSeconds: 1,
  });
  return loadInterleaved(ras, raw);
}

async function measure(
  sink: Sink,
  server: Server,
  scenario: string,
  database: string,
  work: () => Promise<LoadResult>,
) {
  server.resetPeak();
  const result = await work();
  const row = { scenario, database, run: sink.run, ...result, peakRssMb: server.peakRssMb() };
  sink.rows.push(row);
  console.error(
    `  run ${sink.run} ${scenario.padEnd(18)} ${database.padEnd(8)} ${row.requestsPerSecond.toFixed(0).padStart(7)} req/s  RSS ${row.peakRssMb.toFixed(0)} MB`,
  );
}

async function rasScenarios(name: 'sqlite' | 'postgres', options: Options, sink: Sink) {
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
        await measure(sink, ras, 'me', name, () =>
          againstRaw(sink, options, spec(ras, options, { path: me, headers: auth })),
        );
      if (want('bad-token')) {
        const bad = { authorization: `Token ras_${randomBytes(32).toString('base64url')}` };
        await measure(sink, ras, 'bad-token', name, () =>
          againstRaw(
            sink,
            options,
            spec(ras, options, { path: me, headers: bad, spreadClients: true, expectedStatus: 401 }),
          ),
        );
      }
      const hashing = { method: 'POST' as const, spreadClients: true, connections: 16 };
      if (want('login')) {
        await measure(sink, ras, 'login', name, () =>
          load(spec(ras, options, { path: '/api/v1/users/login/', body: credentials, ...hashing })),
        );
      }
      if (want('signup')) {
        const body = { kind: 'signup' as const, password: PASSWORD };
        await measure(sink, ras, 'signup', name, () =>
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
        await measure(sink, stormed, 'me-during-logins', name, () =>
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
        (sink.extras[`${name}.eventLoopDelayP99Ms`] ??= []).push(
          Math.max(0, p99Ms - EVENT_LOOP_RESOLUTION_MS),
        );
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
        await measure(sink, ras, 'me-large', name, () =>
          againstRaw(
            sink,
            options,
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

/**
 * Pins the local PostgreSQL away from the servers' core: the postmaster (whose new backends inherit it) and
 * every process it has now. Returns what puts each one back.
 */
async function pinPostgres(): Promise<() => void> {
  if (!pinning) throw new Error('--pin-postgres needs taskset and two cores');
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2000 });
  await admin.connect();
  const { rows } = await admin.query<{ pid: number }>('select pg_backend_pid() as pid');
  const parentOf = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  };
  // Read while this backend still exists (the PostgreSQL must be on this machine).
  const postmaster = parentOf(rows[0]!.pid);
  await admin.end();
  const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' });
  const pids = [postmaster, ...children.split(/\s+/).filter(Boolean).map(Number)];
  const maskOf = (pid: number) =>
    /: (\w+)\s*$/.exec(execFileSync('taskset', ['-p', String(pid)], { encoding: 'utf8' }))?.[1] ?? '3';
  const masks = new Map(pids.map((pid) => [pid, maskOf(pid)]));
  for (const pid of pids) execFileSync('taskset', ['-p', '-c', '1', String(pid)], { stdio: 'ignore' });
  console.error(`PostgreSQL pinned to core 1 (postmaster ${postmaster} and ${pids.length - 1} processes)`);
  return () => {
    for (const [pid, mask] of masks) {
      try {
        execFileSync('taskset', ['-p', mask, String(pid)], { stdio: 'ignore' });
      } catch {
        // A backend that has exited since.
      }
    }
  };
}

/** The ceiling: node:http with the same answer and nothing else, kept running for the whole benchmark. */
function startRaw(): Promise<Server> {
  return startServer(['--import', 'tsx', 'bench/raw-server.ts'], {}, /raw server listening/);
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

interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function spreadOf(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: values };
}

/**
 * Ratios per run, then their median and spread. A run's Ras reading is divided by the mean of the raw readings
 * taken just before and just after it (the machine's speed drifts within minutes), never by a best-of.
 */
function report(rows: Row[], extras: Extras, verifySeconds: number, options: Options) {
  const rowOf = (scenario: string, database: string, run: number) =>
    rows.find((r) => r.scenario === scenario && r.database === database && r.run === run);
  const rpsOf = (scenario: string, database: string, run: number) =>
    rowOf(scenario, database, run)?.requestsPerSecond;
  /** The scenario's reading over the raw readings interleaved with it. */
  const overRaw = (scenario: string, database: string, run: number) => {
    const row = rowOf(scenario, database, run);
    return row?.baselineRequestsPerSecond ? row.requestsPerSecond / row.baselineRequestsPerSecond : null;
  };
  const runs = Array.from({ length: options.runs }, (_, i) => i + 1);
  const perRun = (f: (run: number) => number | null | undefined) =>
    spreadOf(runs.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)));
  const div = (a: number | undefined, b: number | undefined) => (a && b ? a / b : null);

  const ratios: Record<string, Spread | null> = {};
  for (const db of options.databases) {
    ratios[`${db}: me / raw`] = perRun((run) => overRaw('me', db, run));
    ratios[`${db}: bad-token / raw`] = perRun((run) => overRaw('bad-token', db, run));
    ratios[`${db}: me-large / raw`] = perRun((run) => overRaw('me-large', db, run));
    ratios[`${db}: bad-token / me`] = perRun((run) => div(rpsOf('bad-token', db, run), rpsOf('me', db, run)));
    ratios[`${db}: login req/s × verify time`] = perRun((run) => {
      const login = rpsOf('login', db, run);
      return login ? login * verifySeconds : null;
    });
    ratios[`${db}: me with ${options.largeSessions.toLocaleString()} sessions / me with 1,000`] = perRun(
      (run) => div(rpsOf('me-large', db, run), rpsOf('me', db, run)),
    );
    ratios[`${db}: event-loop delay p99 in login storm (ms)`] = spreadOf(
      extras[`${db}.eventLoopDelayP99Ms`] ?? [],
    );
  }
  ratios['server peak RSS, MB'] = spreadOf(rows.map((r) => r.peakRssMb));

  // One line per scenario and database: the median run's figures, the spread of req/s over the runs.
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.scenario}\u0000${row.database}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const header = [
    'scenario',
    'db',
    'runs',
    'req/s (median)',
    'min–max',
    'raw req/s (same slices)',
    'p50 ms',
    'p99 ms',
    'errors',
    'peak RSS MB',
  ];
  const lines = [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    const middle = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return [
      middle.scenario,
      middle.database,
      String(group.length),
      middle.requestsPerSecond.toFixed(0),
      `${sorted[0]!.requestsPerSecond.toFixed(0)}–${sorted.at(-1)!.requestsPerSecond.toFixed(0)}`,
      middle.baselineRequestsPerSecond?.toFixed(0) ?? '',
      middle.p50Ms.toFixed(1),
      middle.p99Ms.toFixed(1),
      String(group.reduce((n, r) => n + r.errors, 0)),
      Math.max(...group.map((r) => r.peakRssMb)).toFixed(0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  console.log(
    `\nargon2id verify (m=19456, t=2, p=1) on the servers' core: ${(verifySeconds * 1000).toFixed(1)} ms (median of 15)`,
  );
  const shown = (v: number) => v.toFixed(v >= 10 ? 0 : 2);
  console.log(`\n${'ratio'.padEnd(62)} median  min–max      each run`);
  for (const [name, value] of Object.entries(ratios)) {
    if (!value) {
      console.log(`${name.padEnd(62)} n/a`);
      continue;
    }
    const each = name.startsWith('server peak RSS') ? '' : value.runs.map(shown).join(' ');
    console.log(
      `${name.padEnd(62)} ${shown(value.median).padEnd(7)} ${`${shown(value.min)}–${shown(value.max)}`.padEnd(12)} ${each}`,
    );
  }
  return ratios;
}

// ---------------------------------------------------------------- main

function positive(option: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${option} must be a positive integer, not ${value}`);
  return Number(value);
}

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
    .option(
      '--pin-postgres',
      "pin a local PostgreSQL (postmaster and every process it has or forks) to core 1, the load generator's, during the run; restored after",
      false,
    )
    .option(
      '--runs <n>',
      'run every scenario n times, each on a fresh server between raw readings (default 3, quick 1)',
    )
    .parse()
    .opts<{
      quick: boolean;
      duration?: string;
      warmup?: string;
      connections: string;
      scenarios: string;
      databases: string;
      profile: boolean;
      runs?: string;
      pinPostgres: boolean;
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
    runs: positive('--runs', opts.runs ?? (opts.quick ? '1' : '3')),
    pinPostgres: opts.pinPostgres,
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
  const extras: Extras = {};

  // Each run starts a fresh raw server and a fresh Ras server per scenario: a slow instance of either (the raw
  // server alone was seen reading 30% low for a whole benchmark) stays one run's.
  const unpin = options.pinPostgres ? await pinPostgres() : () => undefined;
  try {
    for (let run = 1; run <= options.runs; run++) {
      const raw = await startRaw();
      try {
        for (const database of options.databases)
          await rasScenarios(database, options, { rows, run, extras, raw });
      } finally {
        await raw.stop();
      }
    }
  } finally {
    unpin();
  }

  const ratios = report(rows, extras, verifySeconds, options);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `${stamp}.json`);
  const machine = {
    cpus: cpus().length,
    node: process.version,
    pinned: pinning,
    postgresPinnedToCore1: options.pinPostgres,
  };
  writeFileSync(
    file,
    JSON.stringify({ options, machine, argon2VerifyMs: verifySeconds * 1000, rows, ratios }, null, 2),
  );
  console.error(`\nwrote ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

await main();
