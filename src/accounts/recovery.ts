/**
 * Password reset by email (ASVS 6.4). A request does the same work for every address: it queues one request
 * for the address and answers. The deliverer resolves it later, in its own round (see mail-requests.ts): only an
 * active account gets a link, at most RESETS_PER_HOUR an hour (more send nothing and the last link stays
 * valid). So neither the answer, nor its time, nor the time of the requests after it tells whether an account
 * exists. Confirming ends every session and clears the login throttle of the account.
 */
import { hashToken } from '../crypto/tokens.js';
import { queueMail, replaceAccountToken } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { acceptNewPassword } from './password-policy.js';
import { recordEvent } from './events.js';

export { RESETS_PER_HOUR } from './mail-requests.js';

/** Queues a reset for the address. Refused at once only for a malformed email (or without mail). */
export async function requestPasswordReset(ctx: AccountsContext, input: { email: unknown }): Promise<void> {
  if (!ctx.mail) throw new AccountError('mail_not_configured');
  const email = normalizeEmail(input.email);
  if (email === undefined) throw new AccountError('email_malformed');
  await queueMail(ctx, ctx.store, { kind: 'reset', userId: null, to: email, unhurried: true });
}

export interface ResetConfirmation {
  token: unknown;
  new_password: unknown;
}

/**
 * Sets the new password of the account a live reset token names. The token is used up in the transaction
 * that changes the password, so of concurrent confirmations exactly one succeeds; a refused password leaves
 * the link usable. Every session ends; the login throttle of the account starts over.
 */
export async function confirmPasswordReset(
  ctx: AccountsContext,
  input: ResetConfirmation,
  client: ClientInfo,
): Promise<void> {
  if (typeof input.token !== 'string' || input.token.length > 200) throw new AccountError('link_invalid');
  const tokenHash = hashToken(input.token);
  const found = await ctx.store.tokens.findToken(tokenHash, ['reset'], ctx.now());
  const user = found && (await ctx.store.users.findUserById(found.userId));
  if (!found || !user?.isActive) throw new AccountError('link_invalid');
  const passwordHash = await ctx.passwords.hash(
    acceptNewPassword(input.new_password, user.email),
    client.signal,
  );
  await ctx.store.transaction(async (tx) => {
    const token = await tx.tokens.consumeToken(tokenHash, ['reset'], ctx.now());
    // Only under the credentials the link was issued for: a change since (another reset, a deactivation, an
    // email change), even one committing while this runs, ends it. The rollback keeps the token, unusable.
    const checked = token && { userId: token.userId, credentialsVersion: token.credentialsVersion };
    if (!checked || !(await tx.users.changePasswordHash(checked, passwordHash, ctx.now())))
      throw new AccountError('link_invalid');
    await tx.sessions.deleteSessionsOfUser(user.id);
    await queueMail(ctx, tx, { userId: user.id, kind: 'password_changed', to: user.email });
    await recordEvent(ctx, tx, 'user.password.reset', { userId: user.id, client });
  });
  await ctx.throttle.clearAccount(user.email);
}

/** The operator sets a password (the policy applies): every session ends, the owner is told by mail. */
export async function setPassword(
  ctx: AccountsContext,
  user: { id: number; email: string },
  password: string,
  client: ClientInfo,
): Promise<void> {
  const passwordHash = await ctx.passwords.hash(acceptNewPassword(password, user.email));
  await ctx.store.transaction(async (tx) => {
    await tx.users.changePasswordHash({ userId: user.id }, passwordHash, ctx.now());
    await tx.sessions.deleteSessionsOfUser(user.id);
    await queueMail(ctx, tx, { userId: user.id, kind: 'password_changed', to: user.email });
    await recordEvent(ctx, tx, 'user.password.changed', { userId: user.id, client });
  });
  await ctx.throttle.clearAccount(user.email);
}

/**
 * A reset token for the operator to hand over (the way without mail); it ends the account's earlier ones.
 */
export async function createResetToken(
  ctx: AccountsContext,
  user: { id: number; credentialsVersion: number },
  ttlMs: number,
): Promise<string> {
  return replaceAccountToken(ctx, ctx.store, {
    userId: user.id,
    kind: 'reset',
    credentialsVersion: user.credentialsVersion,
    ttlMs,
  });
}
