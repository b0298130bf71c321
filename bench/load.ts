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
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers with another status than expected, plus connection errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
}

const randomAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/**
 * Clients behind the proxy: this many distinct addresses, cycled through without per-request JavaScript in the
 * generator (which would otherwise cap the run near the server's own speed). Sized so that no address nears the
 * per-address limit in a run, and so the limiter keeps counting for all of them.
 */
const CLIENT_ADDRESSES = 4096;

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

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  if (spec.warmupSeconds > 0) await autocannon(options(spec, spec.warmupSeconds));
  const result = await autocannon(options(spec, spec.durationSeconds));
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count ?? 0;
  const unexpected = Object.entries(statuses)
    .filter(([code]) => Number(code) !== spec.expectedStatus)
    .reduce((sum, [, count]) => sum + count, 0);
  const out: LoadResult = {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: unexpected + result.errors + result.timeouts,
    statuses,
  };
  console.log(JSON.stringify(out));
}

await main();
