import { addressKeyOf } from './client-address.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import { isImpossiblePassword, normalizePassword } from './password-policy.js';
import type { UserRecord } from './storage.js';

/**
 * The account whose password this is, checked under the login throttle. The attempt is counted before the
 * password is checked, so simultaneous guesses are limited like sequential ones: refused with `throttled`
 * while the email is blocked for this address (`attempts_in_progress` when attempts on the account are being
 * checked right now, which count until they settle), counted as a failure unless the password is right. Unknown
 * email and wrong password are the same `invalid_credentials`, at the same cost (a dummy hash is verified
 * for an unknown email). The account may be deactivated; the caller decides what that means.
 */
export async function verifyCredentials(
  ctx: Pick<AccountsContext, 'store' | 'passwords' | 'throttle' | 'now'>,
  email: string | undefined,
  password: unknown,
  client: ClientInfo,
): Promise<UserRecord> {
  if (email === undefined) {
    await passwordMatches(ctx, undefined, password, client);
    throw new AccountError('invalid_credentials');
  }
  const user = await ctx.store.users.findUserByEmail(email);
  const attempt = await ctx.throttle.admit(email, addressKeyOf(client.ip));
  if ('retryAfterSeconds' in attempt) {
    const code = attempt.inProgress ? 'attempts_in_progress' : 'throttled';
    throw new AccountError(code, { retryAfterSeconds: attempt.retryAfterSeconds, userId: user?.id });
  }
  let verification: { matches: boolean; refusal?: string };
  try {
    verification = await passwordMatches(ctx, user?.passwordHash, password, client);
  } catch (error) {
    ctx.throttle.failed(attempt);
    throw error;
  }
  if (!verification.matches || !user) {
    ctx.throttle.failed(attempt);
    if (user) await recordFailure(ctx, user.id, client, verification.refusal);
    throw new AccountError('invalid_credentials', { userId: user?.id, reason: verification.refusal });
  }
  await ctx.throttle.succeeded(attempt);
  return user;
}

/**
 * Whether `value` is the password of the account with `storedHash`; with no account, a dummy hash is
 * verified so the answer takes as long. A value that cannot be a password (not a string, absurdly long)
 * is refused before any hashing.
 */
async function passwordMatches(
  ctx: Pick<AccountsContext, 'passwords'>,
  storedHash: string | undefined,
  value: unknown,
  client: ClientInfo,
): Promise<{ matches: boolean; refusal?: string }> {
  if (typeof value !== 'string' || isImpossiblePassword(value)) return { matches: false };
  const password = normalizePassword(value);
  const stored = storedHash ?? (await ctx.passwords.dummy());
  const verification = await ctx.passwords.verify(stored, password, value, client.signal);
  return storedHash === undefined ? { matches: false } : verification;
}

/** A wrong password for an existing account is an event (an unknown email is no account's). */
function recordFailure(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  userId: number,
  client: ClientInfo,
  refusal: string | undefined,
): Promise<void> {
  return ctx.store.transaction((tx) =>
    recordEvent(ctx, tx, 'user.login.failed', {
      userId,
      client,
      data: { reason: refusal === undefined ? 'wrong_password' : 'unusable_stored_hash' },
    }),
  );
}
