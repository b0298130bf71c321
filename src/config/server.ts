import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { Type } from '@sinclair/typebox';
import { type Environment, isHttpUrl, readEnv } from './env.js';

/** Where and how the server listens, logs and is reached. */
const ServerEnv = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address to listen on' }),
  PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535, description: 'TCP port to listen on' }),
  BODY_LIMIT: Type.Integer({
    default: 64 * 1024,
    minimum: 1024,
    maximum: 64 * 1024 * 1024,
    description: 'Largest request body, in bytes',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'pino log level' },
  ),
  CORS_ORIGINS: Type.String({
    default: '',
    description: 'Comma-separated origins allowed to call the API from a browser; empty: no CORS headers',
  }),
  ACCESS_LOG: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'off',
    description: 'on: one log line per request received and answered (security events are always logged)',
  }),
  WORKERS: Type.String({
    default: '1',
    pattern: '^(auto|[1-9][0-9]*)$',
    description: 'Processes serving the one port (node:cluster); auto = one per CPU',
  }),
  PUBLIC_URL: Type.String({
    default: '',
    description:
      'The URL clients reach Ras at, e.g. behind a proxy (https://accounts.example.com): the server the OpenAPI document names. Empty: relative, the page’s own origin',
  }),
  TRUST_PROXY: Type.String({
    default: '',
    description:
      'Empty: client address is the socket peer. Otherwise Fastify trustProxy: true, or the proxies’ addresses/CIDRs',
  }),
  METRICS_PORT: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 65535,
    description: 'Serve Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics; 0 (default): off',
  }),
  ADMIN_PORT: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 65535,
    description: "Serve the operator's API (/admin/v1/) on ADMIN_HOST:ADMIN_PORT; 0 (default): off",
  }),
  ADMIN_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'Address of the admin listener (keep it on loopback or a private network)',
  }),
  METRICS_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'Address of the metrics listener',
  }),
});

export interface ServerConfig {
  host: string;
  port: number;
  bodyLimit: number;
  logLevel: string;
  corsOrigins: string[];
  trustProxy: boolean | string[];
  metrics: { host: string; port: number } | null;
  /** The admin listener (ADMIN_PORT), or null: off. */
  admin: { host: string; port: number } | null;
  workers: number;
  accessLog: boolean;
  /** PUBLIC_URL, or null: then the OpenAPI document's server is relative (`/`). */
  publicUrl: string | null;
}

export const SERVER_VARIABLES = ServerEnv.properties;

export function readServerConfig(environment: Environment, problems: string[]): ServerConfig {
  const env = readEnv(ServerEnv, environment, problems);
  if (/^\d+$/.test(env.TRUST_PROXY))
    problems.push(
      `TRUST_PROXY=${env.TRUST_PROXY}: a hop count cannot be checked against the connecting peer, and Fastify 5 ` +
        'trusts no proxy for one; name the proxies instead (addresses or CIDRs, comma-separated), or true',
    );
  if (env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT)
    problems.push(`METRICS_PORT=${env.METRICS_PORT}: the metrics listener needs a port of its own, not PORT`);
  if (env.ADMIN_PORT !== 0 && (env.ADMIN_PORT === env.PORT || env.ADMIN_PORT === env.METRICS_PORT))
    problems.push(`ADMIN_PORT=${env.ADMIN_PORT}: the admin listener needs a port of its own`);
  if (env.PUBLIC_URL && !isHttpUrl(env.PUBLIC_URL))
    problems.push(`PUBLIC_URL=${env.PUBLIC_URL}: not an http(s) URL`);
  return {
    host: env.HOST,
    port: env.PORT,
    bodyLimit: env.BODY_LIMIT,
    logLevel: env.LOG_LEVEL,
    corsOrigins: parseCorsOrigins(env.CORS_ORIGINS, problems),
    trustProxy: parseTrustProxy(env.TRUST_PROXY, problems),
    metrics: env.METRICS_PORT > 0 ? { host: env.METRICS_HOST, port: env.METRICS_PORT } : null,
    admin: env.ADMIN_PORT > 0 ? { host: env.ADMIN_HOST, port: env.ADMIN_PORT } : null,
    accessLog: env.ACCESS_LOG === 'on',
    workers: env.WORKERS === 'auto' ? availableParallelism() : Number(env.WORKERS),
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : null,
  };
}

function parseCorsOrigins(value: string, problems: string[]): string[] {
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    // A wildcard would let any site read tokens with the Authorization header; only exact origins.
    if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://app.example.com`);
    }
  }
  return origins;
}

function parseTrustProxy(value: string, problems: string[]): boolean | string[] {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  const proxies = value.split(',').map((a) => a.trim());
  for (const proxy of proxies) {
    const [address = '', bits] = proxy.split('/');
    const family = isIP(address);
    if (
      family === 0 ||
      (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)))
    )
      problems.push(
        `TRUST_PROXY: ${JSON.stringify(proxy)} is not an address or CIDR; allowed: empty, true, false, or addresses/CIDRs separated by commas`,
      );
  }
  return proxies;
}
