/**
 * What an operator does to accounts, through the admin API and `ras users …` alike: find, create, change.
 * Deactivation, passwords, sessions, deletion and the second factor reuse the same functions as the owner's
 * own routes (deactivation.ts, recovery.ts, sessions.ts, deletion.ts, second-factor.ts), with the operator as
 * the events' actor.
 */
import { randomBytes } from 'node:crypto';
import { queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { activateAccount, deactivateAccount } from './deactivation.js';
import { normalizeEmail } from './email.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import { acceptNewPassword } from './password-policy.js';
import { EmailTakenError, type UserRecord, type UserSearch } from './storage.js';
import { markEmailVerified } from './verification.js';
import { keysetPage, type Page } from './pages.js';

export const USER_PAGE = { default: 100, max: 1000 } as const;

/** One page of users in id order, and the `after` of the next page (if any). */
export async function searchAccounts(
  ctx: Pick<AccountsContext, 'store'>,
  search: UserSearch,
): Promise<Page<UserRecord, number>> {
  return keysetPage(
    search.limit,
    USER_PAGE.max,
    (limit) => ctx.store.users.searchUsers({ ...search, limit }),
    (user) => user.id,
  );
}

/** An account as the operator sees it: never its hash. */
export function operatorView(user: UserRecord) {
  return {
    id: user.id,
    email: user.email,
    is_active: user.isActive,
    email_verified: user.emailVerified,
    date_joined: new Date(user.dateJoined).toISOString(),
    last_login: user.lastLogin === null ? null : new Date(user.lastLogin).toISOString(),
    mfa: user.mfaEnabled,
  };
}

export interface NewAccountInput {
  email: unknown;
  password?: unknown;
  email_verified?: unknown;
}

/**
 * Creates an account without a session. The email and password rules are signup's; without a password the
 * account has an unusable one (it signs in only after a reset). Not verified unless the operator says so; with
 * mail configured, an unverified address gets a verification link.
 */
export async function createAccount(
  ctx: AccountsContext,
  input: NewAccountInput,
  client: ClientInfo,
): Promise<UserRecord> {
  const email = normalizeEmail(input.email);
  if (email === undefined) throw new AccountError('email_invalid');
  const passwordHash =
    input.password === undefined
      ? `!${randomBytes(30).toString('base64url')}` // Django's form of "no usable password"
      : await ctx.passwords.hash(acceptNewPassword(input.password, email), client.signal);
  const verified = input.email_verified === true;
  const id = await ctx.store.transaction(async (tx) => {
    const created = await tx.users.insertUser({ email, passwordHash, dateJoined: ctx.now() });
    if (created === undefined) throw new AccountError('email_taken');
    if (verified) await tx.users.setEmailVerified(created);
    else await queueMail(ctx, tx, { kind: 'verify', userId: created, to: email, credentialsVersion: 0 });
    await recordEvent(ctx, tx, 'user.created', { userId: created, client, data: { email } });
    return created;
  });
  return (await ctx.store.users.findUserById(id))!;
}

export interface AccountChanges {
  is_active?: boolean;
  email?: unknown;
  email_verified?: boolean;
}

/** Applies the operator's changes in turn; each one is the same change (and event) as elsewhere. */
export async function updateAccount(
  ctx: AccountsContext,
  user: UserRecord,
  changes: AccountChanges,
  client: ClientInfo,
): Promise<UserRecord> {
  if (changes.email !== undefined) await changeEmailAsOperator(ctx, user, changes.email, client);
  if (changes.is_active === false && user.isActive) await deactivateAccount(ctx, user.id, client);
  if (changes.is_active === true && !user.isActive) await activateAccount(ctx, user.id, client);
  if (changes.email_verified === true) await markEmailVerified(ctx, user, client);
  if (changes.email_verified === false) await ctx.store.users.clearEmailVerified(user.id);
  const updated = await ctx.store.users.findUserById(user.id);
  if (!updated) throw new AccountError('session_not_found');
  return updated;
}

/** The operator moves the account to a new (verified) address: its links end with it, the old address is told. */
async function changeEmailAsOperator(
  ctx: AccountsContext,
  user: UserRecord,
  value: unknown,
  client: ClientInfo,
): Promise<void> {
  const email = normalizeEmail(value);
  if (email === undefined) throw new AccountError('email_invalid');
  if (email === user.email) return;
  try {
    await ctx.store.transaction(async (tx) => {
      const current = await tx.users.findUserById(user.id);
      if (!current || !(await tx.users.changeEmail(user.id, email, current.credentialsVersion)))
        throw new AccountError('session_not_found');
      await queueMail(ctx, tx, { userId: user.id, kind: 'email_changed', to: current.email });
      await recordEvent(ctx, tx, 'user.email.changed', { userId: user.id, client, data: { email } });
    });
  } catch (error) {
    if (error instanceof EmailTakenError) throw new AccountError('email_taken');
    throw error;
  }
}
