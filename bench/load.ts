/**
 * One load run with autocannon, in its own process (pinned to its own core by bench/run.ts). Reads the run's
 * description as JSON from argv[2] and prints the result as JSON on the last line of stdout.
 */
import { randomInt } from 'node:crypto';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** `signup`: a new email per request; otherwise a fixed JSON body (or none). */
  body?: { kind: 'fixed'; json: unknown } | { kind: 'signup'; password: string };
  /** A random X-Forwarded-For per request: many clients behind one proxy (Ras runs with TRUST_PROXY). */
  spreadClients: boolean;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  expectedStatus: number;
  /**
   * The raw ceiling to measure interleaved with this run, in this same (warm) process: after the warm-ups the
   * measured time is cut into slices run on both servers in turn (ABBA order), so drift of the machine's speed
   * over seconds falls on both alike.
   */
  baseline?: LoadSpec;
}

/** Seconds per slice of an interleaved run. */
const SLICE_SECONDS = 2;

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers with another status than expected, plus connection errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
  /** Seconds from the first answer to the end. */
  seconds: number;
  /** The raw baseline's requests/s over the slices interleaved with this run, when it had one. */
  baselineRequestsPerSecond?: number;
}

const randomAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/**
 * Clients behind the proxy: this many distinct addresses, cycled through without per-request JavaScript in the
 * generator (which would otherwise cap the run near the server's own speed). Sized so that no address nears the
 * per-address limit in a run, and so the limiter keeps counting for all of them.
 */
const CLIENT_ADDRESSES = 1024;

function options(spec: LoadSpec, durationSeconds: number): autocannon.Options {
  const fixedBody = spec.body?.kind === 'fixed' ? JSON.stringify(spec.body.json) : undefined;
  const fixedHeaders =
    fixedBody === undefined ? spec.headers : { ...spec.headers, 'content-type': 'application/json' };
  const common = {
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    ...(fixedBody === undefined ? {} : { body: fixedBody }),
  };
  // Hashing requests (login, signup) get a new client address each, computed per request (they are bound by
  // argon2, so the generator's work does not count): autocannon walks the `requests` list in step on every
  // connection, so a fixed list would send 16 simultaneous logins from one address, which the login throttle
  // rightly refuses beyond five.
  const hashing = spec.method === 'POST';
  if (!hashing) {
    // Nothing is computed per request: the generator must not be the bottleneck against the raw server.
    const addresses = spec.spreadClients ? Array.from({ length: CLIENT_ADDRESSES }, randomAddress) : [null];
    return {
      ...common,
      method: spec.method,
      headers: fixedHeaders,
      requests: addresses.map((address) => ({
        method: spec.method,
        path: spec.path,
        headers: address === null ? fixedHeaders : { ...fixedHeaders, 'x-forwarded-for': address },
        ...(fixedBody === undefined ? {} : { body: fixedBody }),
      })),
    };
  }
  // Signup: a new email per request.
  const signup = spec.body?.kind === 'signup' ? spec.body : undefined;
  let counter = 0;
  const tag = `${process.pid}-${Date.now()}`;
  return {
    ...common,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        setupRequest: (request) => {
          const headers: Record<string, string> = { ...fixedHeaders, 'content-type': 'application/json' };
          if (spec.spreadClients) headers['x-forwarded-for'] = randomAddress();
          const body = signup
            ? JSON.stringify({ email: `bench-${tag}-${counter++}@example.com`, password: signup.password })
            : fixedBody;
          return { ...request, headers, body };
        },
      },
    ],
  };
}

interface Timed {
  result: autocannon.Result;
  /** Answers counted from the first answer to the end: the clients' setup (autocannon builds every request
   * buffer of every connection, 1,024 × 50 in `bad-token`) is not the server's time. */
  answers: number;
  seconds: number;
}

async function timed(o: autocannon.Options): Promise<Timed> {
  let first = 0;
  let answers = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(o, (error, done) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done),
    );
    instance.on('response', () => {
      if (answers++ === 0) first = performance.now();
    });
  });
  return { result, answers, seconds: (performance.now() - first) / 1000 };
}

function resultOf(spec: LoadSpec, runs: Timed[]): LoadResult {
  const results = runs.map((run) => run.result);
  const statuses: Record<string, number> = {};
  for (const result of results)
    for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {}))
      statuses[code] = (statuses[code] ?? 0) + (count ?? 0);
  const unexpected = Object.entries(statuses)
    .filter(([code]) => Number(code) !== spec.expectedStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const sum = (f: (r: autocannon.Result) => number) => results.reduce((n, r) => n + f(r), 0);
  const median = (f: (r: autocannon.Result) => number) => {
    const sorted = results.map(f).sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  };
  return {
    requestsPerSecond: runs.reduce((n, r) => n + r.answers, 0) / runs.reduce((n, r) => n + r.seconds, 0),
    p50Ms: median((r) => r.latency.p50),
    p99Ms: median((r) => r.latency.p99),
    requests: runs.reduce((n, r) => n + r.answers, 0),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    errors: unexpected + sum((r) => r.errors + r.timeouts),
    statuses,
  };
}

async function interleaved(spec: LoadSpec, baseline: LoadSpec): Promise<LoadResult> {
  if (baseline.warmupSeconds > 0) await autocannon(options(baseline, baseline.warmupSeconds));
  const slices = Math.max(2, Math.round(spec.durationSeconds / SLICE_SECONDS));
  const mine: Timed[] = [];
  const theirs: Timed[] = [];
  for (let i = 0; i < slices; i++) {
    const pair: [LoadSpec, Timed[]][] = [
      [baseline, theirs],
      [spec, mine],
    ];
    if (i % 2 === 1) pair.reverse();
    for (const [s, into] of pair) into.push(await timed(options(s, SLICE_SECONDS)));
  }
  return { ...resultOf(spec, mine), baselineRequestsPerSecond: resultOf(baseline, theirs).requestsPerSecond };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  if (spec.warmupSeconds > 0) await autocannon(options(spec, spec.warmupSeconds));
  const out = spec.baseline
    ? await interleaved(spec, spec.baseline)
    : resultOf(spec, [await timed(options(spec, spec.durationSeconds))]);
  console.log(JSON.stringify(out));
}

await main();
