import type { AccountsContext } from './context.js';
import { AccountError } from './errors.js';
import { isImpossiblePassword, normalizePassword } from './password-policy.js';
import type { UserRecord } from './storage.js';

/**
 * The account whose password this is, checked under the login throttle: refused with `throttled` while
 * the email is blocked for this address, counted as a failure when wrong. Unknown email and wrong password
 * are the same `invalid_credentials`, at the same cost (a dummy hash is verified for an unknown email).
 * The account may be deactivated; the caller decides what that means.
 */
export async function verifyCredentials(
  ctx: AccountsContext,
  email: string | undefined,
  password: unknown,
  ip: string | null,
): Promise<UserRecord> {
  if (email === undefined) {
    await passwordMatches(ctx, undefined, password);
    throw new AccountError('invalid_credentials');
  }
  const user = await ctx.store.users.findUserByEmail(email);
  const throttle = await ctx.throttle.check(email, ip);
  if (throttle.retryAfterSeconds > 0) {
    throw new AccountError('throttled', { retryAfterSeconds: throttle.retryAfterSeconds, userId: user?.id });
  }
  if (!(await passwordMatches(ctx, user?.passwordHash, password)) || !user) {
    await ctx.throttle.failed(throttle);
    throw new AccountError('invalid_credentials', { userId: user?.id });
  }
  await ctx.throttle.succeeded(throttle);
  return user;
}

/**
 * True when `value` is the password of the account with `storedHash`; with no account, a dummy hash is
 * verified so the answer takes as long. A value that cannot be a password (not a string, absurdly long)
 * is refused before any hashing.
 */
async function passwordMatches(
  ctx: AccountsContext,
  storedHash: string | undefined,
  value: unknown,
): Promise<boolean> {
  if (typeof value !== 'string' || isImpossiblePassword(value)) return false;
  const password = normalizePassword(value);
  const verified = await ctx.passwords.verify(storedHash ?? (await ctx.passwords.dummy()), password, value);
  return verified && storedHash !== undefined;
}
