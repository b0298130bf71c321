import type { FastifyInstance, FastifyRequest, preParsingHookHandler } from 'fastify';
import type { AccountsContext } from '../accounts/context.js';
import { validateSessionToken } from '../accounts/sessions.js';
import type { ActiveSession } from '../accounts/storage.js';
import { sendAnswer, toHttpAnswer } from './error-mapper.js';
import { positiveIntegerOf } from './path-ids.js';
import { HttpRefusal } from './refusals.js';
import { securityEvent } from './security-log.js';

export interface Authenticated {
  session: ActiveSession;
  /** The token as presented; the seed's GET answers it back. */
  token: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token check of this request, made once however many hooks ask (the rate limiter, the guard). */
    authAttempt?: Promise<Authenticated | HttpRefusal>;
    /** Set by the guard once the token opens the account of the path; read it with `authOf`. */
    auth?: Authenticated;
  }
  interface FastifyContextConfig {
    /** The route is inside `ownAccountScope`. */
    authenticated?: boolean;
    /** With REQUIRE_VERIFIED_EMAIL=on, an account whose address is not verified may still use this route. */
    openBeforeVerification?: boolean;
  }
}

const SCHEMES = new Set(['token', 'bearer']);

/**
 * The token from `Authorization: Token <t>` or `Bearer <t>` (scheme case-insensitive). Like DRF, a missing
 * header or another scheme means "no credentials"; a matching scheme with a malformed value is an invalid
 * token. Tokens are read from this header only, never the query string, a cookie or the body.
 */
export function readBearerToken(header: string | undefined): string {
  const parts = header?.trim().split(/\s+/) ?? [];
  const scheme = parts[0];
  if (scheme === undefined || !SCHEMES.has(scheme.toLowerCase()))
    throw new HttpRefusal('credentials_missing');
  const token = parts[1];
  if (parts.length !== 2 || token === undefined) throw new HttpRefusal('token_invalid');
  return token;
}

async function authenticate(ctx: AccountsContext, header: string | undefined): Promise<Authenticated> {
  const token = readBearerToken(header);
  const session = await validateSessionToken(ctx, token);
  if (!session) throw new HttpRefusal('token_invalid');
  return { session, token };
}

/**
 * Checks the request's token once, however many hooks ask (the rate limiter exempts authenticated requests,
 * then the guard uses the same answer). A refusal is returned as a value; a storage failure rejects.
 */
export function resolveAuth(
  ctx: AccountsContext,
  request: FastifyRequest,
): Promise<Authenticated | HttpRefusal> {
  request.authAttempt ??= authenticate(ctx, request.headers.authorization).catch((error: unknown) => {
    if (error instanceof HttpRefusal) return error;
    throw error;
  });
  return request.authAttempt;
}

/**
 * Why the request may not go on, or nothing when its token opens the account of the path (then `request.auth`
 * is set): the id must be a positive integer (404), a valid token must be presented (401), and it must belong to that
 * id (403); with REQUIRE_VERIFIED_EMAIL, the address must be verified unless the route is open before (403).
 * Nothing of another account is ever read: the check compares the session's own user id with the path.
 */
async function ownAccountRefusal(
  ctx: AccountsContext,
  request: FastifyRequest,
): Promise<HttpRefusal | undefined> {
  const userId = positiveIntegerOf((request.params as { userid?: string }).userid);
  if (userId === undefined) return new HttpRefusal('path_id_invalid');
  const auth = await resolveAuth(ctx, request);
  if (auth instanceof HttpRefusal) return auth;
  if (auth.session.userId !== userId) {
    securityEvent(request, 'auth.forbidden', { userId: auth.session.userId, requestedId: userId });
    return new HttpRefusal('permission_denied');
  }
  if (
    ctx.requireVerifiedEmail &&
    !auth.session.emailVerified &&
    !request.routeOptions.config.openBeforeVerification
  )
    return new HttpRefusal('email_unverified');
  request.auth = auth;
  return undefined;
}

/**
 * The scope of every `/users/{userid}/…` route: register them inside it (`scope.register(...)`) and each is
 * guarded by one hook, before its body is parsed. A refusal is answered here rather than thrown: Fastify's
 * error path cost a fifth of a refused request, and refused tokens are all a scanner sends.
 */
export function ownAccountScope(scope: FastifyInstance, ctx: AccountsContext): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, authenticated: true };
  });
  // preParsing, not onRequest: the per-address rate limiter (an onRequest hook) must see refused tokens too.
  // Callback style: not calling `done` after answering is how a hook ends a request (Fastify's hooks guide).
  const guard: preParsingHookHandler = function ownAccount(request, reply, _payload, done) {
    ownAccountRefusal(ctx, request).then(
      (refusal) => (refusal === undefined ? done() : sendAnswer(reply, toHttpAnswer(refusal))),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
  scope.addHook('preParsing', guard);
}

/** The authenticated session of a route inside `ownAccountScope`. */
export function authOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new Error('route is outside ownAccountScope');
  return request.auth;
}
