import type { AccountsContext } from './context.js';
import { normalizeEmail } from './email.js';
import type { UserRecord } from './storage.js';

/** The account with this email (normalized as at signup), or undefined; for operators. */
export async function findAccount(
  ctx: Pick<AccountsContext, 'store'>,
  email: string,
): Promise<UserRecord | undefined> {
  const normalized = normalizeEmail(email);
  return normalized === undefined ? undefined : ctx.store.users.findUserByEmail(normalized);
}
