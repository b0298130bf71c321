import { Type } from '@sinclair/typebox';
import { type Environment, readEnv } from './env.js';

/** Where the data lives: the database, and Redis when the throttle and limits are shared through it. */
const DatabaseEnv = Type.Object({
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
  REDIS_URL: Type.String({
    default: '',
    description:
      'redis://host:port: share rate limits and login throttling through Redis instead of the database',
  }),
});

/** Where the data lives, read from DATABASE_URL (or `--from` of the import) once. */
export type DatabaseLocation =
  { dialect: 'sqlite'; filename: string } | { dialect: 'postgres'; connectionString: string };

export interface DatabaseConfig {
  database: DatabaseLocation | undefined;
  databasePoolMax: number;
  redisUrl: string | null;
}

export const DATABASE_VARIABLES = DatabaseEnv.properties;

export function readDatabaseConfig(environment: Environment, problems: string[]): DatabaseConfig {
  const env = readEnv(DatabaseEnv, environment, problems);
  if (env.REDIS_URL && !/^rediss?:\/\//.test(env.REDIS_URL))
    problems.push('REDIS_URL must start with redis:// or rediss://');
  let database: DatabaseLocation | undefined;
  try {
    database = parseDatabaseUrl(env.DATABASE_URL);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return { database, databasePoolMax: env.DATABASE_POOL_MAX, redisUrl: env.REDIS_URL || null };
}

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
