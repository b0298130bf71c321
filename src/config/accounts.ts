import { availableParallelism } from 'node:os';
import { Type } from '@sinclair/typebox';
import { type Environment, readEnv } from './env.js';

/** Sessions, password hashing, and the per-address request limits. */
const AccountsEnv = Type.Object({
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
});

export interface AccountsConfig {
  sessionTtlMs: number;
  sessionsMax: number;
  argon2Concurrency: number;
  argon2QueueMax: number;
  /** Null with RATE_LIMIT=off. */
  rateLimit: { signupPerHour: number; loginPerMinute: number; globalPerMinute: number } | null;
}

export const ACCOUNTS_VARIABLES = AccountsEnv.properties;

export function readAccountsConfig(environment: Environment, problems: string[]): AccountsConfig {
  const env = readEnv(AccountsEnv, environment, problems);
  return {
    sessionTtlMs: env.TOKEN_TTL * 1000,
    sessionsMax: env.SESSIONS_MAX,
    argon2Concurrency: env.ARGON2_CONCURRENCY,
    argon2QueueMax: env.ARGON2_QUEUE_MAX,
    rateLimit:
      env.RATE_LIMIT === 'off'
        ? null
        : {
            signupPerHour: env.RATE_LIMIT_SIGNUP_PER_HOUR,
            loginPerMinute: env.RATE_LIMIT_LOGIN_PER_MINUTE,
            globalPerMinute: env.RATE_LIMIT_GLOBAL_PER_MINUTE,
          },
  };
}
