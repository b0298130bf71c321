/**
 * What the deliverer sends for each queued request, decided at the moment of sending: this is where a link's
 * token is minted (its hash stored, the token itself only in the mail) and where a request for an address is
 * resolved to an account. The request routes wrote one row whatever the address; the difference between a
 * real account and none shows here, after the answer, in no request's time.
 */
import { replaceAccountToken } from './account-tokens.js';
import type { AccountsContext } from './context.js';
import type { MailKind, OutgoingMail, QueuedMail } from './mail.js';
import type { AccountTokenKind, Store, UserRecord } from './storage.js';

export const RESETS_PER_HOUR = 3;
export const HOUR_MS = 60 * 60 * 1000;

type MailContext = Pick<AccountsContext, 'store' | 'now' | 'mail'>;

/**
 * The mail to send for `request`, or undefined when there is nothing to send (then the row is skipped). For a
 * link, the token is stored in the same transaction that checks the account still qualifies.
 */
export async function prepareMail(ctx: MailContext, request: QueuedMail): Promise<OutgoingMail | undefined> {
  switch (request.kind) {
    case 'reset':
      return prepareReset(ctx, request);
    case 'verify':
      return prepareLink(ctx, request, 'verify');
    case 'email_change':
      return prepareEmailChange(ctx, request);
    default:
      return notice(ctx, request.kind, request.to);
  }
}

function notice(ctx: MailContext, kind: MailKind, to: string, link?: string, ttlMs = 0): OutgoingMail {
  const composed = ctx.mail!.compose(kind, to, link === undefined ? undefined : { url: link, ttlMs });
  return { to, ...composed };
}

/**
 * A reset asked for an address: sent only to an active account, at most RESETS_PER_HOUR an hour (the account's
 * row is held while counting, so deliverers on several instances count one after another).
 */
async function prepareReset(ctx: MailContext, request: QueuedMail): Promise<OutgoingMail | undefined> {
  const mail = ctx.mail!;
  const minted = await ctx.store.transaction(async (tx) => {
    const user = await accountFor(tx, request);
    if (!user?.isActive) return undefined;
    if (request.userId === null) {
      await tx.users.lockUser(user.id);
      const sent = await tx.outbox.countSince(user.id, 'reset', ctx.now() - HOUR_MS);
      if (sent >= RESETS_PER_HOUR) return undefined;
      await tx.outbox.resolveTo(request.id, user.id);
    }
    const token = await replaceAccountToken(ctx, tx, {
      userId: user.id,
      kind: 'reset',
      credentialsVersion: user.credentialsVersion,
      ttlMs: mail.resetTokenTtlMs,
    });
    // To the address the account has now (a retry may come after an email change).
    return { token, to: user.email };
  });
  return minted && notice(ctx, 'reset', minted.to, mail.resetLink(minted.token), mail.resetTokenTtlMs);
}

/** A verification link, to the address the account still has, under the credentials it was asked under. */
async function prepareLink(
  ctx: MailContext,
  request: QueuedMail,
  kind: AccountTokenKind,
): Promise<OutgoingMail | undefined> {
  const mail = ctx.mail!;
  const token = await ctx.store.transaction(async (tx) => {
    const user = await accountFor(tx, request);
    if (!user?.isActive || !unchanged(user, request)) return undefined;
    return replaceAccountToken(ctx, tx, {
      userId: user.id,
      kind,
      credentialsVersion: user.credentialsVersion,
      newEmail: kind === 'email_change' ? request.to : undefined,
      ttlMs: mail.verifyTokenTtlMs,
    });
  });
  return token === undefined
    ? undefined
    : notice(ctx, kind, request.to, mail.verifyLink(token), mail.verifyTokenTtlMs);
}

/**
 * A new address: a confirmation link if it is free, a notice that it already has an account if not (the
 * answer was the same either way; the address's owner learns of the attempt, the asker of nothing).
 */
async function prepareEmailChange(ctx: MailContext, request: QueuedMail): Promise<OutgoingMail | undefined> {
  const holder = await ctx.store.users.findUserByEmail(request.to);
  if (holder === undefined) return prepareLink(ctx, request, 'email_change');
  const user = await accountFor(ctx.store, request);
  if (!user?.isActive || !unchanged(user, request)) return undefined;
  return notice(ctx, 'email_taken', request.to);
}

function accountFor(store: Store, request: QueuedMail): Promise<UserRecord | undefined> {
  return request.userId === null
    ? store.users.findUserByEmail(request.to)
    : store.users.findUserById(request.userId);
}

/** The credentials are the ones the request was made under (always, for a request that named none). */
function unchanged(user: UserRecord, request: QueuedMail): boolean {
  return request.credentialsVersion === null || request.credentialsVersion === user.credentialsVersion;
}
