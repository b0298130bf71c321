import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Every environment variable Ras reads, with its default and meaning. Nothing else reads process.env. */
const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address to listen on' }),
  PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535, description: 'TCP port to listen on' }),
  DATABASE_URL: Type.String({
    default: 'sqlite:./data/ras.db',
    description: 'sqlite:<path>, sqlite::memory:, or postgres://user:pass@host:port/db',
  }),
  DATABASE_POOL_MAX: Type.Integer({
    default: 10,
    minimum: 1,
    maximum: 1000,
    description: 'PostgreSQL pool size',
  }),
  TOKEN_TTL: Type.Integer({
    default: 30 * 24 * 3600,
    minimum: 60,
    description: 'Absolute session lifetime, in seconds (default 30 days)',
  }),
  SESSIONS_MAX: Type.Integer({
    default: 100,
    minimum: 1,
    maximum: 10_000,
    description: 'Live sessions per account; a login beyond ends the oldest',
  }),
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
  REDIS_URL: Type.String({
    default: '',
    description:
      'redis://host:port: share rate limits and login throttling through Redis instead of the database',
  }),
  RATE_LIMIT: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'on',
    description:
      'off turns the per-address request limits off (tests, trusted networks); login throttling stays',
  }),
  RATE_LIMIT_SIGNUP_PER_HOUR: Type.Integer({
    default: 10,
    minimum: 1,
    description: 'Signups per address per hour',
  }),
  RATE_LIMIT_LOGIN_PER_MINUTE: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'Login attempts per address per minute',
  }),
  RATE_LIMIT_GLOBAL_PER_MINUTE: Type.Integer({
    default: 1000,
    minimum: 1,
    description: 'Requests per address per minute that do not carry a valid token',
  }),
  ARGON2_CONCURRENCY: Type.Integer({
    default: availableParallelism(),
    minimum: 1,
    maximum: 256,
    description: 'argon2id computations at once (each takes 19 MiB); the rest wait in a queue',
  }),
  ARGON2_QUEUE_MAX: Type.Integer({
    default: 256,
    minimum: 1,
    maximum: 100_000,
    description: 'Password hashes waiting for a slot; past that a request is answered 503 at once',
  }),
  METRICS_PORT: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 65535,
    description: 'Serve Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics; 0 (default): off',
  }),
  METRICS_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'Address of the metrics listener',
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
  SMTP_URL: Type.String({
    default: '',
    description:
      'smtp://user:pass@host:587 (STARTTLS when offered), smtps:// (implicit TLS), or log: (mails to the log, development only); empty: no mail',
  }),
  MAIL_FROM: Type.String({
    default: 'Ras <no-reply@localhost>',
    minLength: 3,
    description: 'Sender of every mail',
  }),
  APP_NAME: Type.String({ default: 'Ras', minLength: 1, description: 'Product name in mails' }),
  MAIL_TEMPLATES_DIR: Type.String({
    default: '',
    description:
      'Folder of <kind>.subject.txt / <kind>.txt / <kind>.html files overriding the built-in mails',
  }),
  RESET_URL: Type.String({
    default: '',
    description: 'Password reset link, with {token}: https://app.example.com/reset-password?token={token}',
  }),
  VERIFY_URL: Type.String({
    default: '',
    description: 'Email verification link, with {token}: https://app.example.com/verify-email?token={token}',
  }),
  RESET_TOKEN_TTL: Type.Integer({
    default: 3600,
    minimum: 60,
    description: 'Reset link lifetime, in seconds',
  }),
  VERIFY_TOKEN_TTL: Type.Integer({
    default: 86400,
    minimum: 60,
    description: 'Verification (and email change) link lifetime, in seconds',
  }),
  REQUIRE_VERIFIED_EMAIL: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'off',
    description: 'on: a correct login of an unverified account is 403 and opens no session',
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
});

type Env = Static<typeof EnvSchema>;

/** Where the data lives, read from DATABASE_URL (or `--from` of the import) once. */
export type DatabaseLocation =
  { dialect: 'sqlite'; filename: string } | { dialect: 'postgres'; connectionString: string };

/** Reads `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; anything else is a configuration error. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    if (filename === '') throw new Error('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/ras.db');
    return { dialect: 'sqlite', filename };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (!URL.canParse(url) || new URL(url).hostname === '')
      throw new Error('DATABASE_URL is not a valid postgres://user:pass@host:port/db URL');
    return { dialect: 'postgres', connectionString: url };
  }
  throw new Error('DATABASE_URL must start with sqlite: or postgres://');
}

export interface Config {
  host: string;
  port: number;
  database: DatabaseLocation;
  databasePoolMax: number;
  sessionTtlMs: number;
  sessionsMax: number;
  bodyLimit: number;
  logLevel: string;
  corsOrigins: string[];
  trustProxy: boolean | string[];
  redisUrl: string | null;
  rateLimit: { signupPerHour: number; loginPerMinute: number; globalPerMinute: number } | null;
  argon2Concurrency: number;
  argon2QueueMax: number;
  metrics: { host: string; port: number } | null;
  workers: number;
  accessLog: boolean;
  /** Null without SMTP_URL: no mail is sent, and the reset route answers 503. */
  mail: MailConfig | null;
  /** The links of account tokens (RESET_URL, VERIFY_URL) and their lifetimes; the CLI prints reset links too. */
  links: LinkConfig;
  requireVerifiedEmail: boolean;
  /** PUBLIC_URL, or null: then the OpenAPI document's server is relative (`/`). */
  publicUrl: string | null;
}

export interface MailConfig {
  /** A nodemailer SMTP URL, or `log:`. */
  smtpUrl: string;
  from: string;
  appName: string;
  templatesDir: string | null;
}

export interface LinkConfig {
  /** With `{token}` in it; null when not configured (then only SMTP_URL=log: supplies a development one). */
  resetUrl: string | null;
  verifyUrl: string | null;
  resetTokenTtlMs: number;
  verifyTokenTtlMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from the environment; throws a `ConfigError` listing every bad variable. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = environment[key];
    if (value !== undefined && value !== '') raw[key] = value.trim();
  }
  const problems = wholeNumberProblems(raw);
  for (const key of Object.keys(raw)) if (problems.some((p) => p.startsWith(`${key}=`))) delete raw[key];
  const env = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw)) as Env;
  problems.push(...[...Value.Errors(EnvSchema, env)].map((e) => problemOf(e.path.slice(1), raw)));
  const corsOrigins = parseCorsOrigins(env.CORS_ORIGINS, problems);
  if (/^\d+$/.test(env.TRUST_PROXY))
    problems.push(
      `TRUST_PROXY=${env.TRUST_PROXY}: a hop count cannot be checked against the connecting peer, and Fastify 5 ` +
        'trusts no proxy for one; name the proxies instead (addresses or CIDRs, comma-separated), or true',
    );
  if (env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT)
    problems.push(`METRICS_PORT=${env.METRICS_PORT}: the metrics listener needs a port of its own, not PORT`);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY, problems);
  if (env.REDIS_URL && !/^rediss?:\/\//.test(env.REDIS_URL))
    problems.push('REDIS_URL must start with redis:// or rediss://');
  let database: DatabaseLocation | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (env.PUBLIC_URL && !isHttpUrl(env.PUBLIC_URL))
    problems.push(`PUBLIC_URL=${env.PUBLIC_URL}: not an http(s) URL`);
  const mail = parseMail(env, problems);
  const links = parseLinks(env, problems);
  if (problems.length > 0 || !database) throw new ConfigError(problems);

  return {
    host: env.HOST,
    port: env.PORT,
    database,
    databasePoolMax: env.DATABASE_POOL_MAX,
    sessionTtlMs: env.TOKEN_TTL * 1000,
    sessionsMax: env.SESSIONS_MAX,
    bodyLimit: env.BODY_LIMIT,
    logLevel: env.LOG_LEVEL,
    corsOrigins,
    trustProxy,
    redisUrl: env.REDIS_URL || null,
    rateLimit:
      env.RATE_LIMIT === 'off'
        ? null
        : {
            signupPerHour: env.RATE_LIMIT_SIGNUP_PER_HOUR,
            loginPerMinute: env.RATE_LIMIT_LOGIN_PER_MINUTE,
            globalPerMinute: env.RATE_LIMIT_GLOBAL_PER_MINUTE,
          },
    argon2Concurrency: env.ARGON2_CONCURRENCY,
    argon2QueueMax: env.ARGON2_QUEUE_MAX,
    metrics: env.METRICS_PORT > 0 ? { host: env.METRICS_HOST, port: env.METRICS_PORT } : null,
    accessLog: env.ACCESS_LOG === 'on',
    workers: env.WORKERS === 'auto' ? availableParallelism() : Number(env.WORKERS),
    mail,
    links,
    requireVerifiedEmail: env.REQUIRE_VERIFIED_EMAIL === 'on',
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : null,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function parseMail(env: Env, problems: string[]): MailConfig | null {
  if (env.SMTP_URL === '') return null;
  if (!/^(smtps?:\/\/\S+|log:)$/.test(env.SMTP_URL))
    problems.push('SMTP_URL must be smtp://…, smtps://… or log:');
  return {
    smtpUrl: env.SMTP_URL,
    from: env.MAIL_FROM,
    appName: env.APP_NAME,
    templatesDir: env.MAIL_TEMPLATES_DIR || null,
  };
}

/** With mail configured both links are required (SMTP_URL=log: has development defaults). */
function parseLinks(env: Env, problems: string[]): LinkConfig {
  const development = env.SMTP_URL === 'log:';
  const link = (name: 'RESET_URL' | 'VERIFY_URL', path: string): string | null => {
    const value = env[name] || (development ? `http://localhost/${path}?token={token}` : '');
    if (value === '') {
      if (env.SMTP_URL !== '')
        problems.push(`${name} is required with SMTP_URL (a http(s) URL containing {token})`);
      return null;
    }
    if (!/^https?:\/\/\S+$/.test(value) || !value.includes('{token}'))
      problems.push(`${name}=${JSON.stringify(value)}: must be a http(s) URL containing {token}`);
    return value;
  };
  return {
    resetUrl: link('RESET_URL', 'reset-password'),
    verifyUrl: link('VERIFY_URL', 'verify-email'),
    resetTokenTtlMs: env.RESET_TOKEN_TTL * 1000,
    verifyTokenTtlMs: env.VERIFY_TOKEN_TTL * 1000,
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

/** The schema's integer variables: digits only (TypeBox would read 1e2 as 100 and 0x50 as 80). */
function wholeNumberProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const value = raw[key];
    if ((schema as { type?: string }).type === 'integer' && typeof value === 'string' && !/^\d+$/.test(value))
      problems.push(`${key}=${JSON.stringify(value)}: must be a whole number, digits only`);
  }
  return problems;
}

/** One line per bad variable: what was given and what is allowed. */
function problemOf(key: string, raw: Record<string, unknown>): string {
  const schema = EnvSchema.properties[key as keyof typeof EnvSchema.properties] as {
    anyOf?: { const: string }[];
    minimum?: number;
    maximum?: number;
    pattern?: string;
  };
  const given = `${key}=${JSON.stringify(raw[key])}`;
  if (schema.anyOf) return `${given}: allowed values are ${schema.anyOf.map((s) => s.const).join(', ')}`;
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    return `${given}: must be from ${schema.minimum ?? 0} to ${schema.maximum ?? 'any size'}`;
  if (schema.pattern) return `${given}: must match ${schema.pattern}`;
  return `${given}: invalid`;
}
