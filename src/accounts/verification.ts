/**
 * Email verification and email change (ASVS 6.4): a `ras_verify_…` link proves the owner reads the address.
 * Signup sends one when mail is configured; the owner can ask again. A change of address applies only when
 * the link sent to the new address is followed, and the old address is told.
 */
import { hashToken } from '../crypto/tokens.js';
import { issueTokenByMail, queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import type { ActiveSession, UserRecord } from './storage.js';

const HOUR = 60 * 60 * 1000;
const VERIFICATIONS_PER_HOUR = 3;

/** Follows a verification or email-change link. Single-use: of concurrent uses, one succeeds. */
export async function verifyEmail(ctx: AccountsContext, input: { token: unknown }): Promise<void> {
  if (typeof input.token !== 'string' || input.token.length > 200) throw new AccountError('link_invalid');
  const tokenHash = hashToken(input.token);
  const changedFrom = await ctx.store.transaction(async (tx) => {
    const token = await tx.tokens.consumeToken(tokenHash, ['verify', 'email_change'], ctx.now());
    const user = token && (await tx.users.findUserById(token.userId));
    if (!token || !user?.isActive) throw new AccountError('link_invalid');
    if (token.kind === 'verify') {
      await tx.users.setEmailVerified(user.id);
      return undefined;
    }
    // The address may have been taken since the link was sent: then the link is spent, nothing changes.
    if (!token.newEmail || !(await tx.users.changeEmail(user.id, token.newEmail)))
      throw new AccountError('link_invalid');
    await queueMail(ctx, tx, { userId: user.id, kind: 'email_changed', to: user.email });
    return user.email;
  });
  if (changedFrom !== undefined) ctx.mail?.wake();
}

/** Sends the owner a new verification link (at most three an hour; more are answered the same, unsent). */
export async function resendVerification(ctx: AccountsContext, session: ActiveSession): Promise<void> {
  if (!ctx.mail) throw new AccountError('mail_not_configured');
  const sent = await ctx.store.transaction(async (tx) => {
    await tx.users.lockUser(session.userId);
    const recent = await tx.outbox.countSince(session.userId, 'verify', ctx.now() - HOUR);
    if (recent >= VERIFICATIONS_PER_HOUR) return false;
    await issueTokenByMail(ctx, tx, { userId: session.userId, kind: 'verify', to: session.email });
    return true;
  });
  if (sent) ctx.mail.wake();
}

export interface EmailChangeInput {
  password: unknown;
  new_email: unknown;
}

/**
 * Asks to move the account to a new address: the password is checked (throttled like a login), the address
 * must be free, and a confirmation link goes to it. Nothing changes until it is followed; sessions stay.
 */
export async function requestEmailChange(
  ctx: AccountsContext,
  session: ActiveSession,
  input: EmailChangeInput,
  client: ClientInfo,
): Promise<void> {
  if (!ctx.mail) throw new AccountError('mail_not_configured');
  const newEmail = normalizeEmail(input.new_email);
  if (newEmail === undefined) throw new AccountError('email_malformed');
  const user = await verifyCredentials(ctx, session.email, input.password, client);
  if (await ctx.store.users.findUserByEmail(newEmail)) throw new AccountError('email_taken');
  await ctx.store.transaction((tx) =>
    issueTokenByMail(ctx, tx, { userId: user.id, kind: 'email_change', to: newEmail, newEmail }),
  );
  ctx.mail.wake();
}

/** The operator vouches for the address (`ras users verify-email`). */
export function markEmailVerified(ctx: Pick<AccountsContext, 'store'>, userId: number): Promise<boolean> {
  return ctx.store.users.setEmailVerified(userId);
}

/** The account as its owner sees it. */
export async function accountOf(ctx: Pick<AccountsContext, 'store'>, userId: number): Promise<UserRecord> {
  const user = await ctx.store.users.findUserById(userId);
  // The guard found the session a moment ago; a deletion in between ends it too.
  if (!user) throw new AccountError('token_invalid');
  return user;
}
