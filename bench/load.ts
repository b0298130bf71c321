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

function options(spec: LoadSpec, durationSeconds: number): autocannon.Options {
  const varies = spec.spreadClients || spec.body?.kind === 'signup';
  if (!varies) {
    // Nothing changes between requests: no per-request JavaScript in the generator, which would otherwise
    // be the bottleneck against the raw server.
    const body = spec.body?.kind === 'fixed' ? JSON.stringify(spec.body.json) : undefined;
    const headers =
      body === undefined ? spec.headers : { ...spec.headers, 'content-type': 'application/json' };
    return {
      url: spec.url,
      connections: spec.connections,
      duration: durationSeconds,
      method: spec.method,
      headers,
      ...(body === undefined ? {} : { body }),
      requests: [{ method: spec.method, path: spec.path }],
    };
  }
  let counter = 0;
  const tag = `${process.pid}-${Date.now()}`;
  return {
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        setupRequest: (request) => {
          const headers: Record<string, string> = { ...spec.headers };
          if (spec.spreadClients) headers['x-forwarded-for'] = randomAddress();
          let body: string | undefined;
          if (spec.body?.kind === 'fixed') body = JSON.stringify(spec.body.json);
          if (spec.body?.kind === 'signup') {
            body = JSON.stringify({
              email: `bench-${tag}-${counter++}@example.com`,
              password: spec.body.password,
            });
          }
          if (body !== undefined) headers['content-type'] = 'application/json';
          return { ...request, headers, ...(body !== undefined ? { body } : {}) };
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
