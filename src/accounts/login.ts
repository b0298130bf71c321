import { needsRehash } from '../crypto/passwords.js';
import type { AccountsContext, ClientInfo, SignedIn } from './context.js';
import { verifyCredentials } from './credentials.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { normalizePassword } from './password-policy.js';
import { openSecondFactorChallenge, type SecondFactorRequired } from './mfa-login.js';
import { openLoginSession } from './sessions.js';
import type { UserRecord } from './storage.js';

export interface LoginInput {
  email: unknown;
  password: unknown;
}

/**
 * Checks the password (throttled) and opens a new session; earlier sessions stay valid. A deactivated
 * account is told apart only to someone who knows its password. An account with a second factor gets a
 * challenge instead of a session (mfa-login.ts).
 */
export async function login(
  ctx: AccountsContext,
  input: LoginInput,
  client: ClientInfo,
): Promise<SignedIn | SecondFactorRequired> {
  const user = await verifyCredentials(ctx, normalizeEmail(input.email), input.password, client);
  if (!user.isActive) throw new AccountError('account_deactivated', { userId: user.id });
  if (ctx.requireVerifiedEmail && !user.emailVerified)
    throw new AccountError('email_unverified', { userId: user.id });
  // verifyCredentials returned an account, so the password was a string.
  await upgradeHashIfNeeded(ctx, user, input.password as string, client);
  if (user.mfaEnabled) return openSecondFactorChallenge(ctx, user);
  const checked = { userId: user.id, credentialsVersion: user.credentialsVersion };
  const { token } = await ctx.store.transaction((tx) => openLoginSession(ctx, tx, checked, client));
  return { user: { id: user.id, email: user.email }, token };
}

/** Rehashes with today's argon2id parameters; the password is known to be right only at this moment. */
async function upgradeHashIfNeeded(
  ctx: AccountsContext,
  user: UserRecord,
  password: string,
  client: ClientInfo,
): Promise<void> {
  if (!needsRehash(user.passwordHash)) return;
  const passwordHash = await ctx.passwords.hash(normalizePassword(password), client.signal);
  await ctx.store.users.upgradePasswordHash(
    { userId: user.id, credentialsVersion: user.credentialsVersion },
    passwordHash,
  );
}
