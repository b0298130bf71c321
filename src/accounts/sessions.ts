/**
 * Sessions. Every signup and login opens one; a session is a row with the SHA-256 of its token, the user,
 * created/expiry/last-seen times, and the client's user agent and address. The token itself (`ras_` + 256
 * random bits) is shown once, in the login answer, and never stored: a copy of the database lets no one in.
 *
 * - Lifetime is absolute (`TOKEN_TTL`, default 30 days): an expired token is just an unknown one.
 * - Revocation deletes the row, so it holds on the very next request on every instance.
 * - `last_seen_at` is written at most once an hour per session, keeping the authenticated read write-free
 *   in the common case.
 */
import { generateToken, hashToken } from '../crypto/tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { AccountError } from './errors.js';
import type { ActiveSession, SessionRecord, Store } from './storage.js';

export const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000;
const MAX_USER_AGENT_LENGTH = 512;

export interface OpenedSession {
  sessionId: number;
  token: string;
}

/** Opens a new session for the user, in `store` (pass a transaction to open it with other writes). */
export async function createSession(
  ctx: AccountsContext,
  store: Store,
  userId: number,
  client: ClientInfo,
): Promise<OpenedSession> {
  const token = generateToken();
  const now = ctx.now();
  await store.sessions.deleteExpiredSessionsOfUser(userId, now);
  const sessionId = await store.sessions.createSession({
    userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: now + ctx.sessionTtlMs,
    userAgent: client.userAgent?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
    ip: client.ip,
  });
  return { sessionId, token };
}

/** The live session a token opens, or `undefined` for an unknown, expired or revoked token. */
export async function validateSessionToken(
  ctx: AccountsContext,
  token: string,
): Promise<ActiveSession | undefined> {
  const now = ctx.now();
  const session = await ctx.store.sessions.findActiveSessionByTokenHash(hashToken(token), now);
  if (session && now - session.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) {
    await ctx.store.sessions.touchSession(session.sessionId, now);
    session.lastSeenAt = now;
  }
  return session;
}

/** Ends the session of this token only. False when it was already gone (another logout won the race). */
export function invalidateSessionToken(ctx: AccountsContext, token: string): Promise<boolean> {
  return ctx.store.sessions.deleteSessionByTokenHash(hashToken(token));
}

/** The account's live sessions, newest first. */
export function listSessions(ctx: AccountsContext, userId: number): Promise<SessionRecord[]> {
  return ctx.store.sessions.listActiveSessionsOfUser(userId, ctx.now());
}

/** Ends one session of the account; `session_not_found` when it is not theirs or does not exist. */
export async function revokeSession(ctx: AccountsContext, userId: number, sessionId: number): Promise<void> {
  if (!(await ctx.store.sessions.deleteSessionOfUser(userId, sessionId)))
    throw new AccountError('session_not_found');
}

/** Ends every session of the account, the caller's included. */
export function revokeAllSessions(ctx: AccountsContext, userId: number): Promise<number> {
  return ctx.store.sessions.deleteSessionsOfUser(userId);
}
