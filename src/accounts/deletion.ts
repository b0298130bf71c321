import { queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { recordEvent } from './events.js';
import type { ActiveSession } from './storage.js';

/**
 * Erases the account: its row, sessions, tokens, unsent mails and login throttle counters, in one transaction
 * with the deletion notice (which outlives it). The email is free again; the id is never handed out again
 * (AUTOINCREMENT on SQLite, a sequence on PostgreSQL). False for an unknown user.
 */
export async function deleteAccount(
  ctx: Pick<AccountsContext, 'store' | 'throttle' | 'mail' | 'now'>,
  user: { id: number; email: string },
  client: ClientInfo,
): Promise<boolean> {
  const deleted = await ctx.store.transaction(async (tx) => {
    await tx.outbox.dropUnsentOf(user.id);
    if (!(await tx.users.deleteUser(user.id))) return false;
    await queueMail(ctx, tx, { userId: null, kind: 'account_deleted', to: user.email });
    await recordEvent(ctx, tx, 'user.deleted', { userId: user.id, client });
    return true;
  });
  if (!deleted) return false;
  await ctx.throttle.clearAccount(user.email);
  return true;
}

/** The owner deletes the account; the password is asked again (and throttled like a login). */
export async function deleteOwnAccount(
  ctx: AccountsContext,
  session: ActiveSession,
  password: unknown,
  client: ClientInfo,
): Promise<void> {
  const user = await verifyCredentials(ctx, session.email, password, client);
  await deleteAccount(ctx, user, client);
}
