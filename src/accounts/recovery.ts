/**
 * Password reset by email (ASVS 6.4). A request answers the same for every email, and its work (token and
 * mail, in one transaction) runs after the answer, so neither the answer nor its time tells whether an
 * account exists. At most RESETS_PER_HOUR mails per account: more requests send nothing and the last link
 * stays valid. Confirming ends every session and clears the login throttle of the account.
 */
import { hashToken } from '../crypto/tokens.js';
import { issueTokenByMail, queueMail, replaceAccountToken } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { acceptNewPassword } from './password-policy.js';

export const RESETS_PER_HOUR = 3;
const HOUR = 60 * 60 * 1000;

/**
 * Checks a reset request and returns the work to run once it is answered: for an active account under the
 * hourly limit, a new reset token and its mail. Refused at once only for a malformed email (or without mail).
 */
export function requestPasswordReset(ctx: AccountsContext, input: { email: unknown }): () => Promise<void> {
  if (!ctx.mail) throw new AccountError('mail_not_configured');
  const email = normalizeEmail(input.email);
  if (email === undefined) throw new AccountError('email_malformed');
  return async () => {
    const user = await ctx.store.users.findUserByEmail(email);
    if (!user?.isActive) return;
    const sent = await ctx.store.transaction(async (tx) => {
      // The account's row is held so that simultaneous requests count one after another.
      await tx.users.lockUser(user.id);
      if ((await tx.outbox.countSince(user.id, 'reset', ctx.now() - HOUR)) >= RESETS_PER_HOUR) return false;
      await issueTokenByMail(ctx, tx, { userId: user.id, kind: 'reset', to: user.email });
      return true;
    });
    if (sent) ctx.mail?.wake();
  };
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
  if (!user?.isActive) throw new AccountError('link_invalid');
  const passwordHash = await ctx.passwords.hash(
    acceptNewPassword(input.new_password, user.email),
    client.signal,
  );
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.tokens.consumeToken(tokenHash, ['reset'], ctx.now())))
      throw new AccountError('link_invalid');
    // Deactivated since the link was sent: refused (the rollback keeps the token, which stays unusable).
    if (!(await tx.users.findUserById(user.id))?.isActive) throw new AccountError('link_invalid');
    await tx.users.changePasswordHash({ userId: user.id }, passwordHash, ctx.now());
    await tx.sessions.deleteSessionsOfUser(user.id);
    await queueMail(ctx, tx, { userId: user.id, kind: 'password_changed', to: user.email });
  });
  await ctx.throttle.clearAccount(user.email);
  ctx.mail?.wake();
}

/** The operator sets a password (the policy applies): every session ends, the owner is told by mail. */
export async function setPassword(
  ctx: AccountsContext,
  user: { id: number; email: string },
  password: string,
): Promise<void> {
  const passwordHash = await ctx.passwords.hash(acceptNewPassword(password, user.email));
  await ctx.store.transaction(async (tx) => {
    await tx.users.changePasswordHash({ userId: user.id }, passwordHash, ctx.now());
    await tx.sessions.deleteSessionsOfUser(user.id);
    await queueMail(ctx, tx, { userId: user.id, kind: 'password_changed', to: user.email });
  });
  await ctx.throttle.clearAccount(user.email);
  ctx.mail?.wake();
}

/**
 * A reset token for the operator to hand over (the way without mail); it ends the account's earlier ones.
 */
export function createResetToken(ctx: AccountsContext, userId: number, ttlMs: number): Promise<string> {
  return replaceAccountToken(ctx, ctx.store, { userId, kind: 'reset', ttlMs });
}
