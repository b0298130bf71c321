/**
 * The single-use tokens of the account's lifecycle: `ras_reset_…` (password reset) and `ras_verify_…` (email
 * verification, and confirmation of a new address). 256 random bits each, stored only as SHA-256, ended when
 * used, when expired, when a newer one of its kind is issued for the account, and when the account's
 * credentials change (each token records the credentials version it was issued under).
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../crypto/tokens.js';
import type { AccountsContext } from './context.js';
import type { MailRequest } from './mail.js';
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
  request: {
    userId: number;
    kind: AccountTokenKind;
    credentialsVersion: number;
    newEmail?: string;
    ttlMs: number;
  },
): Promise<string> {
  const token = PREFIX[request.kind] + randomBytes(32).toString('base64url');
  const now = ctx.now();
  await store.tokens.replaceToken({
    userId: request.userId,
    kind: request.kind,
    tokenHash: hashToken(token),
    newEmail: request.newEmail ?? null,
    credentialsVersion: request.credentialsVersion,
    createdAt: now,
    expiresAt: now + request.ttlMs,
  });
  return token;
}

/** Queues a mail request in `store` (a transaction's); nothing without mail configured. */
export async function queueMail(
  ctx: Pick<AccountsContext, 'now' | 'mail'>,
  store: Store,
  mail: Omit<MailRequest, 'credentialsVersion'> & { credentialsVersion?: number },
): Promise<void> {
  if (!ctx.mail) return;
  await store.outbox.enqueue({ credentialsVersion: null, ...mail }, ctx.now());
}
