/**
 * The second step of a login with a second factor. A right password opens a *challenge*, not a session: a
 * `ras_mfa_…` token (256 random bits, stored as SHA-256) that lives 300 s, is used once, and ends after
 * MAX_CODES codes tried. Each code tried is counted before it is checked, by one conditional write (so 50
 * simultaneous guesses check at most 5), and also as a login attempt of the account under the login throttle
 * (a wrong code is a failed login). A right code opens the session in the transaction that uses the code and
 * ends the challenge, and only under the credentials the password was checked against. A passkey counts as a
 * code: its options come from `/login/mfa/options/` with a WebAuthn challenge bound to this `ras_mfa_…` token.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { addressKeyOf } from './client-address.js';
import type { AccountsContext, ClientInfo, SignedIn } from './context.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import { useSecondFactorCode } from './second-factor.js';
import { openLoginSession } from './sessions.js';
import type { UserRecord } from './storage.js';
import { requestOptions, takeChallenge, verifyAssertion, type VerifiedAssertion } from './webauthn.js';
import { generateToken, hashToken } from '../crypto/tokens.js';

export const MFA_TOKEN_TTL_MS = 300_000;
export const MAX_CODES = 5;
const MFA_TOKEN_PREFIX = 'ras_mfa_';

export type SecondFactorMethod = 'totp' | 'recovery_code' | 'webauthn';

/** What a right password answers for an account with a second factor. */
export interface SecondFactorRequired {
  user: { id: number };
  mfaToken: string;
  methods: SecondFactorMethod[];
}

/** Opens the challenge of a login whose password was right. */
export async function openSecondFactorChallenge(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  user: UserRecord,
): Promise<SecondFactorRequired> {
  const mfaToken = generateToken(MFA_TOKEN_PREFIX);
  const now = ctx.now();
  await ctx.store.mfa.openChallenge({
    tokenHash: hashToken(mfaToken),
    userId: user.id,
    credentialsVersion: user.credentialsVersion,
    now,
    expiresAt: now + MFA_TOKEN_TTL_MS,
  });
  const methods: SecondFactorMethod[] = [];
  if ((await ctx.store.mfa.findTotp(user.id))?.confirmed) methods.push('totp');
  if ((await ctx.store.mfa.countRecoveryCodes(user.id)) > 0) methods.push('recovery_code');
  if ((await ctx.store.passkeys.countOfUser(user.id)) > 0) methods.push('webauthn');
  return { user: { id: user.id }, mfaToken, methods };
}

export interface SecondFactorInput {
  mfa_token: unknown;
  code?: unknown;
  recovery_code?: unknown;
  /** A passkey's authentication response to the options of `/login/mfa/options/`. */
  webauthn?: unknown;
}

/** Completes the login with a TOTP code, a recovery code or a passkey: the login's answer, a new session. */
export async function completeSecondFactor(
  ctx: AccountsContext,
  input: SecondFactorInput,
  client: ClientInfo,
): Promise<SignedIn> {
  if (typeof input.mfa_token !== 'string' || input.mfa_token.length > 200)
    throw new AccountError('mfa_token_invalid');
  const tokenHash = hashToken(input.mfa_token);
  const challenge = await ctx.store.mfa.reserveChallengeAttempt(tokenHash, ctx.now(), MAX_CODES);
  const user = challenge && (await ctx.store.users.findUserById(challenge.userId));
  if (!challenge || !user) throw new AccountError('mfa_token_invalid');
  const attempt = await ctx.throttle.admit(user.email, addressKeyOf(client.ip));
  if ('retryAfterSeconds' in attempt)
    throw new AccountError(attempt.inProgress ? 'attempts_in_progress' : 'throttled', {
      retryAfterSeconds: attempt.retryAfterSeconds,
      userId: user.id,
    });
  let opened: SignedIn | undefined;
  try {
    const passkey =
      input.webauthn === undefined
        ? undefined
        : await passkeyFactor(ctx, input.webauthn, { mfaTokenHash: tokenHash, userId: user.id }, client);
    opened = await ctx.store.transaction(async (tx) => {
      const method = await useSecondFactorCode(ctx, tx, user.id, {
        totp: input.code,
        recoveryCode: input.recovery_code,
        passkey,
      });
      if (!method) return undefined;
      if (!(await tx.mfa.consumeChallenge(tokenHash))) throw new AccountError('mfa_token_invalid');
      const checked = { userId: user.id, credentialsVersion: challenge.credentialsVersion };
      const { token } = await openLoginSession(ctx, tx, checked, client, { method });
      return { user: { id: user.id, email: user.email }, token };
    });
  } catch (error) {
    ctx.throttle.failed(attempt);
    throw error;
  }
  if (!opened) {
    ctx.throttle.failed(attempt);
    await ctx.store.transaction((tx) =>
      recordEvent(ctx, tx, 'user.login.failed', { userId: user.id, client, data: { reason: 'wrong_code' } }),
    );
    throw new AccountError('mfa_code_invalid', { userId: user.id });
  }
  await ctx.throttle.succeeded(attempt);
  return opened;
}

/** Options for the second step of a password login with a passkey: the account's passkeys, this login's challenge. */
export async function secondFactorPasskeyOptions(
  ctx: AccountsContext,
  input: { mfa_token?: unknown },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  if (typeof input.mfa_token !== 'string' || input.mfa_token.length > 200)
    throw new AccountError('mfa_token_invalid');
  const mfaTokenHash = hashToken(input.mfa_token);
  const login = await ctx.store.mfa.findLiveChallenge(mfaTokenHash, ctx.now(), MAX_CODES);
  if (!login) throw new AccountError('mfa_token_invalid');
  const passkeys = await ctx.store.passkeys.listOfUser(login.userId);
  if (passkeys.length === 0) throw new AccountError('passkey_not_found', { userId: login.userId });
  return requestOptions(ctx, { purpose: 'mfa', userId: login.userId, mfaTokenHash }, passkeys);
}

/**
 * Checks a passkey response given as the second step of the login with this `ras_mfa_…` token: undefined
 * (a wrong code) unless it answers that login's challenge with one of the account's passkeys.
 */
export async function passkeyFactor(
  ctx: AccountsContext,
  value: unknown,
  login: { mfaTokenHash: string; userId: number },
  client: ClientInfo,
): Promise<VerifiedAssertion | undefined> {
  try {
    const { response, challenge, issuedFor } = await takeChallenge(ctx, value, 'mfa');
    if (issuedFor.mfaTokenHash !== login.mfaTokenHash || issuedFor.userId !== login.userId) return undefined;
    const assertion = await verifyAssertion(ctx, response, challenge, client);
    return assertion?.passkey.userId === login.userId ? assertion : undefined;
  } catch (error) {
    if (error instanceof AccountError) return undefined;
    throw error;
  }
}
