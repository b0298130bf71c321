import rateLimit from '@fastify/rate-limit';
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { AccountsContext } from '../accounts/context.js';
import { addressKeyOf } from '../accounts/client-address.js';

import type { Config } from '../config.js';
import { resolveAuth } from './auth-guard.js';
import { HttpRefusal } from './refusals.js';
import { securityEvent } from './security-log.js';

export type Limits = NonNullable<Config['rateLimit']>;

const MINUTE = 60_000;

/** The limiter's key for a request with a valid token: never an address key, and always allowed. */
const AUTHENTICATED = '(authenticated)';

/** The per-address key; an IPv6 client is counted by its /64 (accounts/client-address.ts). */
const addressKey = (request: FastifyRequest) => addressKeyOf(request.ip);

/**
 * Per-address request limits (@fastify/rate-limit), counted in memory or, with REDIS_URL, in Redis so every
 * instance shares them: signups (the seed's "email already exist" answer tells whether an account exists; this
 * bounds how fast anyone can ask), login attempts, and a global limit for everything else. Requests with a
 * valid token are exempt from the global limit: a client's backend authenticates each of its own requests
 * through Ras, all from one address. A failing Redis lets requests through (availability first); the login
 * throttle, which guards passwords, fails closed instead.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  ctx: AccountsContext,
  limits: Limits,
  redis: Redis | null,
): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: limits.globalPerMinute,
    timeWindow: MINUTE,
    ...(redis ? { redis, nameSpace: 'ras:ratelimit:' } : {}),
    skipOnError: true,
    // The x-ratelimit-* headers only when a limit is hit (with Retry-After): on every other answer they would
    // cost each unauthenticated request three headers that the seed's clients never read.
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    // The limiter asks for the key before the allow-list: a request with a valid token gets a key that is no
    // address and is then let through, so the hot path never computes the client address (proxy-addr parses
    // the socket address and X-Forwarded-For on each read of request.ip).
    keyGenerator: async (request) => {
      if (
        request.routeOptions.config.authenticated &&
        !((await resolveAuth(ctx, request)) instanceof HttpRefusal)
      )
        return AUTHENTICATED;
      return addressKey(request);
    },
    allowList: (_request, key) => key === AUTHENTICATED,
    onExceeded: (request) => securityEvent(request, 'rate_limit', { path: request.routeOptions.url }),
    errorResponseBuilder: (_request, context) =>
      new HttpRefusal('rate_limited', { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
}

/**
 * The per-address limit of every route that checks a password (login, password change, deactivation): the
 * login limit, applied with a valid token too.
 */
function passwordCheckLimit(limits: Limits) {
  return {
    max: limits.loginPerMinute,
    timeWindow: MINUTE,
    keyGenerator: addressKey,
    allowList: () => false,
  };
}

/**
 * The per-address limit of every route that makes Ras send a mail to an address the asker names (a reset, an
 * email change) or to the account (a new verification link): signup's hourly limit, valid token or not.
 */
function mailRequestLimit(limits: Limits) {
  return {
    max: limits.signupPerHour,
    timeWindow: 60 * MINUTE,
    keyGenerator: addressKey,
    allowList: () => false,
  };
}

/** The kinds of per-address limit a route can have, besides the global one. */
export interface RouteLimits {
  /** Signup: the seed's "email already exist" tells whether an account exists; this bounds how fast to ask. */
  signup: FastifyContextConfig;
  /** Every route that checks a password (login, change, deactivation, deletion, reset confirm). */
  passwordCheck: FastifyContextConfig;
  /** Every route that makes Ras mail an address (reset request, email change, verification resend). */
  mail: FastifyContextConfig;
}

/** Each kind's limit as route config, from the configured limits; all empty with RATE_LIMIT=off. */
export function routeLimits(limits: Limits | null): RouteLimits {
  if (!limits) return { signup: {}, passwordCheck: {}, mail: {} };
  return {
    signup: { rateLimit: { max: limits.signupPerHour, timeWindow: 60 * MINUTE } },
    passwordCheck: { rateLimit: passwordCheckLimit(limits) },
    mail: { rateLimit: mailRequestLimit(limits) },
  };
}
