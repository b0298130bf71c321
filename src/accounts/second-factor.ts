/**
 * The second factor (ASVS 6.3.3, 6.5): TOTP (RFC 6238) with ten recovery codes. A secret is enrolled pending
 * and becomes active only when a code from it is confirmed; the TOTP secret is stored sealed with MFA_KEY (it
 * must be read back to compute codes), recovery codes only as SHA-256 (each is 120 random bits: ASVS 6.5.2
 * allows a plain hash from 112 bits on).
 * Each TOTP code is accepted once per account: the step it matched is recorded by a conditional write that
 * refuses any step not later than the last one used, on every instance. A password reset, an email change or
 * an operator's set-password leaves the factor as it is; the operator can remove it (`ras users mfa-reset`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import type { SecretBox } from '../crypto/secret-box.js';
import { matchingStep, newTotpSecret, totpUrl } from '../crypto/totp.js';
import { queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { verifyCredentials } from './credentials.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import type { ActiveSession, PasskeyRecord, Store } from './storage.js';
import type { VerifiedAssertion } from './webauthn.js';

export const RECOVERY_CODE_COUNT = 10;

/** The key that seals TOTP secrets; without MFA_KEY the second factor cannot be enrolled (503). */
function secretsOf(ctx: Pick<AccountsContext, 'secrets'>): SecretBox {
  if (!ctx.secrets) throw new AccountError('mfa_not_configured');
  return ctx.secrets;
}

/** A recovery code as shown: 24 base32 characters (120 bits) in groups of six. */
function newRecoveryCode(): string {
  return encodeBase32LowerCaseNoPadding(randomBytes(15)).match(/.{6}/g)!.join('-');
}

/** The hash a recovery code is stored and looked up as: case, spaces and dashes do not matter. */
export function recoveryCodeHash(code: string): string {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');
}

async function replaceRecoveryCodes(
  ctx: Pick<AccountsContext, 'now'>,
  tx: Store,
  userId: number,
): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await tx.mfa.replaceRecoveryCodes(userId, codes.map(recoveryCodeHash), ctx.now());
  return codes;
}

/** Starts TOTP enrolment (the password is asked again, throttled): a new pending secret and its otpauth URL. */
export async function enrolTotp(
  ctx: AccountsContext,
  session: ActiveSession,
  password: unknown,
  client: ClientInfo,
): Promise<{ secret: string; otpauthUrl: string }> {
  const box = secretsOf(ctx);
  const user = await verifyCredentials(ctx, session.email, password, client);
  const secret = newTotpSecret();
  const stored = await ctx.store.mfa.putPendingTotp(
    user.id,
    box.seal(secret, 'totp', String(user.id)),
    ctx.now(),
  );
  if (!stored) throw new AccountError('mfa_already_enabled');
  return { secret, otpauthUrl: totpUrl(ctx.appName, user.email, secret) };
}

/** Confirms the pending secret with a code from it: the factor is on; returns the ten recovery codes. */
export async function confirmTotp(
  ctx: AccountsContext,
  session: ActiveSession,
  code: unknown,
  client: ClientInfo,
): Promise<string[]> {
  const box = secretsOf(ctx);
  const totp = await ctx.store.mfa.findTotp(session.userId);
  if (totp?.confirmed) throw new AccountError('mfa_already_enabled');
  const step =
    totp && typeof code === 'string'
      ? matchingStep(box.open(totp.secretSealed, 'totp', String(session.userId)), code, ctx.now())
      : undefined;
  if (step === undefined) throw new AccountError('mfa_code_invalid');
  return ctx.store.transaction(async (tx) => {
    // A concurrent confirmation (or a new enrolment) won: this code confirms nothing.
    if (!(await tx.mfa.useTotpStep(session.userId, step, ctx.now(), true)))
      throw new AccountError('mfa_code_invalid');
    await tx.mfa.setMfaEnabled(session.userId, true);
    const codes = await replaceRecoveryCodes(ctx, tx, session.userId);
    await recordEvent(ctx, tx, 'user.mfa.enabled', {
      userId: session.userId,
      client,
      data: { method: 'totp' },
    });
    await queueMail(ctx, tx, { userId: session.userId, kind: 'mfa_enabled', to: session.email });
    return codes;
  });
}

export interface SecondFactorStatus {
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: PasskeyRecord[];
}

export async function secondFactorStatus(
  ctx: Pick<AccountsContext, 'store'>,
  userId: number,
): Promise<SecondFactorStatus> {
  const totp = await ctx.store.mfa.findTotp(userId);
  return {
    totp: totp?.confirmed ?? false,
    recoveryCodesLeft: await ctx.store.mfa.countRecoveryCodes(userId),
    passkeys: await ctx.store.passkeys.listOfUser(userId),
  };
}

/** Ten new recovery codes (the password is asked again); the old ones end. */
export async function renewRecoveryCodes(
  ctx: AccountsContext,
  session: ActiveSession,
  password: unknown,
  client: ClientInfo,
): Promise<string[]> {
  const user = await verifyCredentials(ctx, session.email, password, client);
  if (!user.mfaEnabled) throw new AccountError('mfa_not_enabled');
  return ctx.store.transaction((tx) => replaceRecoveryCodes(ctx, tx, user.id));
}

/**
 * Whether `code` is a current TOTP code of the account (recording its step, so it is not accepted again), one
 * of its recovery codes (using it up), or a verified passkey signature (recording the use), in `tx`.
 */
export async function useSecondFactorCode(
  ctx: Pick<AccountsContext, 'secrets' | 'now'>,
  tx: Store,
  userId: number,
  code: { totp?: unknown; recoveryCode?: unknown; passkey?: VerifiedAssertion },
): Promise<'totp' | 'recovery_code' | 'webauthn' | undefined> {
  if (code.passkey) {
    const { passkey, newCounter } = code.passkey;
    // The passkey must still be there, unused since it was checked.
    return (await tx.passkeys.recordUse(passkey.id, passkey.counter, newCounter, ctx.now()))
      ? 'webauthn'
      : undefined;
  }
  if (typeof code.recoveryCode === 'string' && code.recoveryCode.length <= 64)
    return (await tx.mfa.useRecoveryCode(userId, recoveryCodeHash(code.recoveryCode)))
      ? 'recovery_code'
      : undefined;
  if (typeof code.totp !== 'string' || !ctx.secrets) return undefined;
  const totp = await tx.mfa.findTotp(userId);
  if (!totp?.confirmed) return undefined;
  const step = matchingStep(
    ctx.secrets.open(totp.secretSealed, 'totp', String(userId)),
    code.totp,
    ctx.now(),
  );
  return step !== undefined && (await tx.mfa.useTotpStep(userId, step, ctx.now(), false))
    ? 'totp'
    : undefined;
}

/** Turns the factor off: the password and a current code (or a recovery code) are asked. */
export async function disableTotp(
  ctx: AccountsContext,
  session: ActiveSession,
  input: { password: unknown; code: unknown },
  client: ClientInfo,
): Promise<void> {
  const user = await verifyCredentials(ctx, session.email, input.password, client);
  // An account with passkeys only has a second factor, but no TOTP to turn off.
  if (!(await ctx.store.mfa.findTotp(user.id))?.confirmed) throw new AccountError('mfa_not_enabled');
  await ctx.store.transaction(async (tx) => {
    const used =
      (await useSecondFactorCode(ctx, tx, user.id, { totp: input.code })) ??
      (await useSecondFactorCode(ctx, tx, user.id, { recoveryCode: input.code }));
    if (!used) throw new AccountError('mfa_code_invalid');
    await removeFactor(ctx, tx, user, client);
  });
}

/**
 * The operator removes every second factor (TOTP, recovery codes, passkeys) of an account whose owner lost
 * them (`ras users mfa-reset`). False if there was none.
 */
export function resetSecondFactor(
  ctx: Pick<AccountsContext, 'store' | 'now' | 'mail'>,
  user: { id: number; email: string },
  client: ClientInfo,
): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    await tx.users.lockUser(user.id);
    const passkeys = await tx.passkeys.removeAllOfUser(user.id);
    return (await removeFactor(ctx, tx, user, client, 'all')) || passkeys > 0;
  });
}

/** Removes the factor and its recovery codes, with the event and the owner's notice; false if there was none. */
async function removeFactor(
  ctx: Pick<AccountsContext, 'now' | 'mail'>,
  tx: Store,
  user: { id: number; email: string },
  client: ClientInfo,
  method: 'totp' | 'all' = 'totp',
): Promise<boolean> {
  // Under the row lock a passkey being added takes too, so whether one remains is read after it committed.
  await tx.users.lockUser(user.id);
  const removed = await tx.mfa.removeSecondFactor(user.id);
  const flag = await syncSecondFactorFlag(tx, user.id);
  if (!removed && flag.before === flag.after) return false;
  await recordEvent(ctx, tx, 'user.mfa.disabled', { userId: user.id, client, data: { method } });
  await queueMail(ctx, tx, { userId: user.id, kind: 'mfa_disabled', to: user.email });
  return true;
}

/**
 * Sets `users.mfa_enabled` (read by the login with the user row) from what the account holds: a confirmed TOTP
 * secret or a passkey. Call it under the user's row lock after changing either.
 */
export async function syncSecondFactorFlag(
  tx: Store,
  userId: number,
): Promise<{ before: boolean; after: boolean }> {
  const before = (await tx.users.findUserById(userId))?.mfaEnabled ?? false;
  const totp = await tx.mfa.findTotp(userId);
  const after = (totp?.confirmed ?? false) || (await tx.passkeys.countOfUser(userId)) > 0;
  if (before !== after) await tx.mfa.setMfaEnabled(userId, after);
  return { before, after };
}
