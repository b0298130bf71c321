/**
 * Sessions. Every signup and login opens one; a session is a row with the SHA-256 of its token, the user,
 * created/expiry/last-seen times, and the client's user agent and address. The token itself (`ras_` + 256
 * random bits) is shown once, in the login answer, and never stored: a copy of the database lets no one in.
 *
 * - Lifetime is absolute (`TOKEN_TTL`, default 30 days): an expired token is just an unknown one.
 * - Revocation deletes the row, so it holds on the very next request on every instance.
 * - A session opens only for the credentials its password was checked against (`credentials_version`), so a
 *   login racing a password change or deactivation cannot outlive it. An account holds at most
 *   `SESSIONS_MAX` live sessions: a login beyond ends the oldest.
 * - `last_seen_at` is written at most once an hour per session, keeping the authenticated read write-free
 *   in the common case.
 */
import { generateToken, hashToken } from '../crypto/tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { AccountError } from './errors.js';
import { recordedClient } from './client-address.js';
import { recordEvent } from './events.js';
import { keysetPage, type Page } from './pages.js';
import type { EventData } from './event-types.js';
import type { ActiveSession, CheckedCredentials, SessionPage, SessionRecord, Store } from './storage.js';

export const LAST_SEEN_RESOLUTION_MS = 60 * 60 * 1000;

export interface OpenedSession {
  sessionId: number;
  token: string;
}

type SessionContext = Pick<AccountsContext, 'store' | 'now' | 'sessionTtlMs' | 'sessionsMax'>;

/**
 * Opens a new session for the account whose credentials were checked, in `ctx.store` (give it a transaction's
 * store to open it with other writes). Refused with `invalid_credentials` when the account was deactivated or
 * its password changed since the check. The account's oldest sessions beyond `sessionsMax` end.
 */
export async function createSession(
  ctx: SessionContext,
  checked: CheckedCredentials,
  client: ClientInfo,
): Promise<OpenedSession> {
  const token = generateToken();
  const now = ctx.now();
  const session = {
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: now + ctx.sessionTtlMs,
    ...recordedClient(client),
  };
  return ctx.store.transaction(async (tx) => {
    await tx.sessions.deleteExpiredSessionsOfUser(checked.userId, now);
    const sessionId = await tx.sessions.openSession(session, checked);
    if (sessionId === undefined) throw new AccountError('invalid_credentials', { userId: checked.userId });
    await tx.sessions.trimSessionsOfUser(checked.userId, ctx.sessionsMax);
    return { sessionId, token };
  });
}

/**
 * The session a successful login opens, in the login's transaction: with the account's `last_login` and the
 * `user.login.succeeded` event (its `data` says how: a second-factor method, a passkey).
 */
export async function openLoginSession(
  ctx: Pick<AccountsContext, 'now' | 'sessionTtlMs' | 'sessionsMax'>,
  tx: Store,
  checked: CheckedCredentials,
  client: ClientInfo,
  data: EventData = {},
): Promise<OpenedSession> {
  const opened = await createSession({ ...ctx, store: tx }, checked, client);
  await tx.users.recordLogin(checked.userId, ctx.now());
  await recordEvent(ctx, tx, 'user.login.succeeded', {
    userId: checked.userId,
    client,
    data: { session_id: opened.sessionId, ...data },
  });
  return opened;
}

/** The live session a token opens, or `undefined` for an unknown, expired or revoked token. */
export async function validateSessionToken(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
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
export function invalidateSessionToken(ctx: Pick<AccountsContext, 'store'>, token: string): Promise<boolean> {
  return ctx.store.sessions.deleteSessionByTokenHash(hashToken(token));
}

export const SESSION_PAGE = { default: 50, max: 100 } as const;

/** One page of the account's live sessions, newest first, and the `before` of the next page (if any). */
export async function listSessions(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  page: SessionPage,
): Promise<Page<SessionRecord, number>> {
  return keysetPage(
    page.limit,
    SESSION_PAGE.max,
    (limit) => ctx.store.sessions.listActiveSessionsOfUser(userId, ctx.now(), { limit, before: page.before }),
    (session) => session.id,
  );
}

/** Every live session of the account, newest first, page by page (for operators). */
export async function allSessions(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
): Promise<SessionRecord[]> {
  const sessions: SessionRecord[] = [];
  let before: number | undefined;
  do {
    const page = await listSessions(ctx, userId, { limit: SESSION_PAGE.max, before });
    sessions.push(...page.rows);
    before = page.next ?? undefined;
  } while (before !== undefined);
  return sessions;
}

/** A session as the API and the CLI show it: ISO times, never a token or its hash. */
export function sessionView(session: SessionRecord) {
  return {
    id: session.id,
    created_at: new Date(session.createdAt).toISOString(),
    expires_at: new Date(session.expiresAt).toISOString(),
    last_seen_at: new Date(session.lastSeenAt).toISOString(),
    user_agent: session.userAgent,
    ip: session.ip,
  };
}

/** Ends the session of this token, as a logout does; `token_invalid` when another logout ended it first. */
export async function logout(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  session: { userId: number; sessionId: number },
  token: string,
  client: ClientInfo,
): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    if (!(await invalidateSessionToken({ store: tx }, token))) throw new AccountError('token_invalid');
    await recordEvent(ctx, tx, 'user.logout', {
      userId: session.userId,
      client,
      data: { session_id: session.sessionId },
    });
  });
}

/** Ends one session of the account; `session_not_found` when it is not theirs or does not exist. */
export async function revokeSession(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  sessionId: number,
  client: ClientInfo,
): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.sessions.deleteSessionOfUser(userId, sessionId)))
      throw new AccountError('session_not_found');
    await recordEvent(ctx, tx, 'session.revoked', { userId, client, data: { session_id: sessionId } });
  });
}

/** Ends every session of the account, the caller's included; returns how many. */
export function revokeAllSessions(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  client: ClientInfo,
): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    const ended = await tx.sessions.deleteSessionsOfUser(userId);
    await recordEvent(ctx, tx, 'session.revoked', { userId, client, data: { all: true, sessions: ended } });
    return ended;
  });
}
