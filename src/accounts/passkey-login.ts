/**
 * Signing in with a passkey alone (passwordless, a discoverable credential: the browser offers the account's
 * passkeys, no email is typed); as the second step of a password login, see mfa-login.ts. A session opens
 * only while the passkey still exists with the counter that was checked: a passkey removed meanwhile opens
 * nothing. The passwordless route is not under the account's failed-login throttle: a signature cannot be
 * guessed, so someone guessing the password does not lock the passkey out (the route's per-address rate
 * limit still applies).
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { AccountsContext, ClientInfo, SignedIn } from './context.js';
import { AccountError } from './errors.js';
import { openLoginSession } from './sessions.js';
import { requestOptions, takeChallenge, verifyAssertion } from './webauthn.js';

/** Options for a passwordless login: no credentials listed, so the browser offers every passkey it holds here. */
export function passwordlessOptions(ctx: AccountsContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return requestOptions(ctx, { purpose: 'login', userId: null, mfaTokenHash: null });
}

/**
 * A passwordless login: the login's answer, a new session. A passkey with user verification is two
 * factors, so no second step follows. A deactivated account is told so (the holder of its passkey is its
 * owner), as the password login tells one who knows the password.
 */
export async function loginWithPasskey(
  ctx: AccountsContext,
  input: { response?: unknown },
  client: ClientInfo,
): Promise<SignedIn> {
  const { response, challenge } = await takeChallenge(ctx, input.response, 'login');
  const assertion = await verifyAssertion(ctx, response, challenge, client);
  const user = assertion && (await ctx.store.users.findUserById(assertion.passkey.userId));
  if (!assertion || !user) throw new AccountError('passkey_invalid', { userId: user?.id });
  if (!user.isActive) throw new AccountError('account_deactivated', { userId: user.id });
  if (ctx.requireVerifiedEmail && !user.emailVerified)
    throw new AccountError('email_unverified', { userId: user.id });
  const { passkey, newCounter } = assertion;
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.passkeys.recordUse(passkey.id, passkey.counter, newCounter, ctx.now())))
      throw new AccountError('passkey_invalid', { userId: user.id });
    const checked = { userId: user.id, credentialsVersion: user.credentialsVersion };
    const { token } = await openLoginSession(ctx, tx, checked, client, {
      method: 'passkey',
      passkey_id: passkey.id,
    });
    return { user: { id: user.id, email: user.email }, token };
  });
}
