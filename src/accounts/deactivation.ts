import type { AccountsContext } from './context.js';
import { passwordMatches } from './credentials.js';
import { AccountError } from './errors.js';
import type { ActiveSession, Store } from './storage.js';

/** Deactivates the account and ends every session of it, in one transaction. False for an unknown user. */
export function deactivateAccount(store: Store, userId: number): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!(await tx.users.setUserActive(userId, false))) return false;
    await tx.sessions.deleteSessionsOfUser(userId);
    return true;
  });
}

/** Lets the account log in again. Its old sessions stay ended. False for an unknown user. */
export function activateAccount(store: Store, userId: number): Promise<boolean> {
  return store.users.setUserActive(userId, true);
}

/** The owner deactivates their own account; the password is asked again so a stolen token is not enough. */
export async function deactivateOwnAccount(
  ctx: AccountsContext,
  session: ActiveSession,
  password: unknown,
): Promise<void> {
  const user = await ctx.store.users.findUserById(session.userId);
  if (!user || !(await passwordMatches(user.passwordHash, password)))
    throw new AccountError('invalid_credentials');
  await deactivateAccount(ctx.store, user.id);
}
