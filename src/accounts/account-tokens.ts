/**
 * The single-use tokens of the account's lifecycle: `ras_reset_…` (password reset) and `ras_verify_…` (email
 * verification, and confirmation of a new address). 256 random bits each, stored only as SHA-256, ended when
 * used, when expired, or when a newer one of its kind is issued for the account.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../crypto/tokens.js';
import type { AccountsContext } from './context.js';
import type { MailKind } from './mail.js';
import type { AccountTokenKind, Store } from './storage.js';

const PREFIX: Record<AccountTokenKind, string> = {
  reset: 'ras_reset_',
  verify: 'ras_verify_',
  email_change: 'ras_verify_',
};

/** Makes a token of `kind` for the account and stores its hash in `store`, ending its earlier ones. */
export async function replaceAccountToken(
  ctx: Pick<AccountsContext, 'now'>,
  store: Store,
  request: { userId: number; kind: AccountTokenKind; newEmail?: string; ttlMs: number },
): Promise<string> {
  const token = PREFIX[request.kind] + randomBytes(32).toString('base64url');
  const now = ctx.now();
  await store.tokens.replaceToken({
    userId: request.userId,
    kind: request.kind,
    tokenHash: hashToken(token),
    newEmail: request.newEmail ?? null,
    createdAt: now,
    expiresAt: now + request.ttlMs,
  });
  return token;
}

/**
 * Issues a token of `kind` for the account, ending its earlier ones, and writes the mail that carries its
 * link to `to`, both in `store` (a transaction's).
 */
export async function issueTokenByMail(
  ctx: Pick<AccountsContext, 'now' | 'mail'>,
  store: Store,
  request: { userId: number; kind: AccountTokenKind; to: string; newEmail?: string },
): Promise<void> {
  const mail = ctx.mail!;
  const ttlMs = request.kind === 'reset' ? mail.resetTokenTtlMs : mail.verifyTokenTtlMs;
  const token = await replaceAccountToken(ctx, store, { ...request, ttlMs });
  const url = request.kind === 'reset' ? mail.resetLink(token) : mail.verifyLink(token);
  await queueMail(ctx, store, {
    userId: request.userId,
    kind: request.kind,
    to: request.to,
    link: { url, ttlMs },
  });
}

/** Writes a mail of `kind` to the outbox in `store` (a transaction's); nothing without mail configured. */
export async function queueMail(
  ctx: Pick<AccountsContext, 'now' | 'mail'>,
  store: Store,
  mail: { userId: number | null; kind: MailKind; to: string; link?: { url: string; ttlMs: number } },
): Promise<void> {
  if (!ctx.mail) return;
  const composed = ctx.mail.compose(mail.kind, mail.to, mail.link);
  await store.outbox.enqueue({ userId: mail.userId, kind: mail.kind, to: mail.to, ...composed }, ctx.now());
}
