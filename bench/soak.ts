/**
 * `npm run soak`: every benchmark scenario at once against one Ras server for a while (default 3 minutes),
 * then a report: requests per scenario, 5xx and socket errors (there must be none: the exit code says so),
 * and the server's RSS at the start and the end (it should stay flat).
 *
 *   npm run soak                      # 180 s on SQLite
 *   npm run soak -- --seconds 20      # what .ci/run does
 *   npm run soak -- --database-url postgres://postgres@127.0.0.1:5432/soak
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createAccount, load, PASSWORD, ROOT, rssMb, startRas } from './harness.js';
import type { LoadResult, LoadSpec } from './load.js';

const options = new Command('soak')
  .option('--seconds <n>', 'how long', '180')
  .option('--database-url <url>', 'default: a new SQLite file')
  .parse()
  .opts<{ seconds: string; databaseUrl?: string }>();

const seconds = Number(options.seconds);
const dir = mkdtempSync(join(tmpdir(), 'ras-soak-'));
const databaseUrl = options.databaseUrl ?? `sqlite:${join(dir, 'soak.db')}`;
const ras = await startRas(databaseUrl);
try {
  const account = await createAccount(ras);
  // Logins go to an account of their own: each opens a session, and beyond SESSIONS_MAX (100) the oldest end,
  // the `me` token among them.
  const loginAccount = await createAccount(ras);
  const startRss = rssMb(ras.child.pid);
  const base = {
    url: ras.url,
    warmupSeconds: 0,
    durationSeconds: seconds,
    headers: {},
    spreadClients: false,
  };
  const scenarios: Record<string, LoadSpec> = {
    me: {
      ...base,
      method: 'GET',
      path: `/api/v1/users/${account.id}/`,
      headers: { authorization: `Token ${account.token}` },
      connections: 20,
      expectedStatus: 200,
    },
    'bad-token': {
      ...base,
      method: 'GET',
      path: `/api/v1/users/${account.id}/`,
      headers: { authorization: `Token ras_${randomBytes(32).toString('base64url')}` },
      spreadClients: true,
      connections: 5,
      expectedStatus: 401,
    },
    login: {
      ...base,
      method: 'POST',
      path: '/api/v1/users/login/',
      body: { kind: 'fixed', json: { email: loginAccount.email, password: PASSWORD } },
      spreadClients: true,
      connections: 4,
      expectedStatus: 200,
    },
    signup: {
      ...base,
      method: 'POST',
      path: '/api/v1/users/signup/',
      body: { kind: 'signup', password: PASSWORD },
      spreadClients: true,
      connections: 2,
      expectedStatus: 201,
    },
  };
  console.error(`soak: ${Object.keys(scenarios).join(' + ')} for ${seconds} s against ${databaseUrl}`);
  const names = Object.keys(scenarios);
  const results = await Promise.all(names.map((name) => load(scenarios[name]!)));
  const endRss = rssMb(ras.child.pid);
  const byName = Object.fromEntries(names.map((name, i) => [name, results[i]!])) as Record<
    string,
    LoadResult
  >;
  const count5xx = (r: LoadResult) =>
    Object.entries(r.statuses)
      .filter(([code]) => Number(code) >= 500)
      .reduce((n, [, c]) => n + c, 0);
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const fivexx = results.reduce((n, r) => n + count5xx(r), 0);
  const unexpected = results.reduce((n, r) => n + r.errors, 0);
  for (const [name, r] of Object.entries(byName)) {
    console.log(
      `${name.padEnd(10)} ${String(r.requests).padStart(8)} requests  ${JSON.stringify(r.statuses)}`,
    );
  }
  console.log(
    `soak: ${requests} requests in ${seconds} s, ${fivexx} 5xx, ${unexpected} unexpected answers or socket errors; ` +
      `server RSS ${startRss.toFixed(0)} MB at the start, ${endRss.toFixed(0)} MB at the end, ${ras.peakRssMb().toFixed(0)} MB at most`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench/results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
    JSON.stringify(
      {
        seconds,
        databaseUrl: databaseUrl.replace(/\/\/[^@]*@/, '//'),
        requests,
        fivexx,
        unexpected,
        startRss,
        endRss,
        byName,
      },
      null,
      2,
    ),
  );
  process.exitCode = fivexx > 0 || unexpected > 0 ? 1 : 0;
} finally {
  await ras.stop();
  rmSync(dir, { recursive: true, force: true });
}
