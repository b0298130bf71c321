/**
 * Email verification and email change (ASVS 6.4): a `ras_verify_…` link proves the owner reads the address.
 * Signup sends one when mail is configured; the owner can ask again. A change of address applies only when
 * the link sent to the new address is followed, and the old address is told.
 */
import { hashToken } from '../crypto/tokens.js';
import { queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { HOUR_MS } from './mail-requests.js';
import { recordEvent } from './events.js';
import { type ActiveSession, EmailTakenError, type Store, type UserRecord } from './storage.js';

/** Verification links, and email-change mails, each account may be sent an hour. */
const MAILS_PER_HOUR = 3;

/**
 * Follows a verification or email-change link. Single-use: of concurrent uses, one succeeds; a link issued
 * before the account's credentials changed opens nothing.
 */
export async function verifyEmail(
  ctx: AccountsContext,
  input: { token: unknown },
  client: ClientInfo,
): Promise<void> {
  if (typeof input.token !== 'string' || input.token.length > 200) throw new AccountError('link_invalid');
  const tokenHash = hashToken(input.token);
  try {
    await ctx.store.transaction(async (tx) => {
      const token = await tx.tokens.consumeToken(tokenHash, ['verify', 'email_change'], ctx.now());
      const user = token && (await tx.users.findUserById(token.userId));
      if (!token || !user?.isActive) throw new AccountError('link_invalid');
      // Each write holds only under the version the link was issued for, re-checked by the write itself.
      if (token.kind === 'verify') {
        if (!(await tx.users.setEmailVerified(user.id, token.credentialsVersion)))
          throw new AccountError('link_invalid');
        await recordEvent(ctx, tx, 'user.email.verified', {
          userId: user.id,
          client,
          data: { email: user.email },
        });
        return;
      }
      if (!token.newEmail || !(await tx.users.changeEmail(user.id, token.newEmail, token.credentialsVersion)))
        throw new AccountError('link_invalid');
      await queueMail(ctx, tx, { userId: user.id, kind: 'email_changed', to: user.email });
      await recordEvent(ctx, tx, 'user.email.changed', {
        userId: user.id,
        client,
        data: { email: token.newEmail },
      });
    });
  } catch (error) {
    // The address went to another account since the link was sent (or at this very moment): the link is spent.
    if (error instanceof EmailTakenError) throw new AccountError('link_invalid');
    throw error;
  }
}

/**
 * Queues a new verification link for the owner: one row, made into a link by the deliverer in its next round
 * (at most three an hour; more are answered the same and queue nothing).
 */
export async function resendVerification(ctx: AccountsContext, session: ActiveSession): Promise<void> {
  if (!ctx.mail) throw new AccountError('mail_not_configured');
  await ctx.store.transaction(async (tx) => {
    const user = await underHourlyLimit(ctx, tx, session.userId, 'verify');
    if (!user) return;
    await queueMail(ctx, tx, {
      kind: 'verify',
      userId: user.id,
      to: user.email,
      credentialsVersion: user.credentialsVersion,
      unhurried: true,
    });
  });
}

/**
 * The account, held for the rest of the transaction (so simultaneous requests count one after another), if
 * fewer than MAILS_PER_HOUR mails of `kind` were asked for it in the last hour.
 */
async function underHourlyLimit(
  ctx: Pick<AccountsContext, 'now'>,
  tx: Store,
  userId: number,
  kind: 'verify' | 'email_change',
): Promise<UserRecord | undefined> {
  await tx.users.lockUser(userId);
  const user = await tx.users.findUserById(userId);
  if (!user || (await tx.outbox.countSince(userId, kind, ctx.now() - HOUR_MS)) >= MAILS_PER_HOUR)
    return undefined;
  return user;
}

export interface EmailChangeInput {
  password: unknown;
  new_email: unknown;
}

/**
 * Asks to move the account to a new address: the password is checked (throttled like a login), and one request
 * is queued whether the address is free or taken (the deliverer sends a link to a free one, a notice to a taken
 * one), so the answer tells nothing about who has an account. Nothing changes until the link is followed;
 * sessions stay. At most three such mails an hour.
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
  const checked = await verifyCredentials(ctx, session.email, input.password, client);
  await ctx.store.transaction(async (tx) => {
    const user = await underHourlyLimit(ctx, tx, checked.id, 'email_change');
    if (!user) return;
    await queueMail(ctx, tx, {
      kind: 'email_change',
      userId: user.id,
      to: newEmail,
      // The password was checked under this version: a change since then means no link.
      credentialsVersion: checked.credentialsVersion,
      unhurried: true,
    });
  });
}

/** The operator vouches for the address (`ras users verify-email`). */
export function markEmailVerified(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  user: { id: number; email: string },
  client: ClientInfo,
): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.users.setEmailVerified(user.id))) return false;
    await recordEvent(ctx, tx, 'user.email.verified', {
      userId: user.id,
      client,
      data: { email: user.email },
    });
    return true;
  });
}

/** The account as its owner sees it. */
export async function accountOf(ctx: Pick<AccountsContext, 'store'>, userId: number): Promise<UserRecord> {
  const user = await ctx.store.users.findUserById(userId);
  // The guard found the session a moment ago; a deletion in between ends it too.
  if (!user) throw new AccountError('token_invalid');
  return user;
}
