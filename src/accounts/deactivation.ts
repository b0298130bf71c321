import type { Store } from './storage.js';

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
