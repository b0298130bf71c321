import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { recordEvent } from './events.js';
import type { ActiveSession } from './storage.js';

/** Deactivates the account and ends every session of it, in one transaction. False for an unknown user. */
export function deactivateAccount(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  client: ClientInfo,
): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.users.setUserActive(userId, false))) return false;
    const ended = await tx.sessions.deleteSessionsOfUser(userId);
    await recordEvent(ctx, tx, 'user.deactivated', { userId, client, data: { sessions_ended: ended } });
    return true;
  });
}

/**
 * Lets the account log in again. Every earlier session stays ended: any left (a session a login opened as
 * the account was being deactivated, a token imported with an inactive account) is deleted here.
 * False for an unknown user.
 */
export function activateAccount(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  client: ClientInfo,
): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.users.setUserActive(userId, true))) return false;
    await tx.sessions.deleteSessionsOfUser(userId);
    await recordEvent(ctx, tx, 'user.activated', { userId, client });
    return true;
  });
}

/** The owner deactivates their own account; the password is asked again (and throttled like a login). */
export async function deactivateOwnAccount(
  ctx: AccountsContext,
  session: ActiveSession,
  password: unknown,
  client: ClientInfo,
): Promise<void> {
  const user = await verifyCredentials(ctx, session.email, password, client);
  await deactivateAccount(ctx, user.id, client);
}
