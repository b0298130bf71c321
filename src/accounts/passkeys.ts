/**
 * An account's passkeys: registration (options, then the browser's response verified), the list, removal.
 * Registration asks for a discoverable credential with user verification (ASVS 6.7.1), excludes the
 * authenticators already registered, and accepts `none` attestation (the public key is what matters; no
 * vendor list is trusted). A passkey is a second factor: while an account has one, a right password opens a
 * challenge instead of a session (`users.mfa_enabled` is kept true while TOTP or any passkey is there).
 */
import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { queueMail } from './account-tokens.js';
import type { AccountsContext, ClientInfo } from './context.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import { syncSecondFactorFlag } from './second-factor.js';
import type { ActiveSession, PasskeyRecord, Store } from './storage.js';
import { CHALLENGE_TTL_MS, newChallenge, saveChallenge, takeChallenge, userHandleOf } from './webauthn.js';

export const PASSKEY_NAME_MAX = 100;
const DEFAULT_NAME = 'Passkey';

/** Options for `navigator.credentials.create()`; the challenge is stored for this account. */
export async function passkeyRegistrationOptions(
  ctx: AccountsContext,
  session: ActiveSession,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await ctx.store.passkeys.listOfUser(session.userId);
  const options = await generateRegistrationOptions({
    rpName: ctx.appName,
    rpID: ctx.relyingParty.id,
    userName: session.email,
    userDisplayName: session.email,
    userID: userHandleOf(session.userId),
    challenge: newChallenge(),
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((passkey) => ({
      id: passkey.credentialId,
      transports: passkey.transports,
    })),
    authenticatorSelection: {
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: 'required',
    },
  });
  await saveChallenge(ctx, options.challenge, {
    purpose: 'register',
    userId: session.userId,
    mfaTokenHash: null,
  });
  return options;
}

/** Verifies the browser's registration response against this account's challenge and stores the passkey. */
export async function addPasskey(
  ctx: AccountsContext,
  session: ActiveSession,
  input: { name?: unknown; response?: unknown },
  client: ClientInfo,
): Promise<PasskeyRecord> {
  const name = passkeyNameOf(input.name);
  const { response, challenge, issuedFor } = await takeChallenge(ctx, input.response, 'register');
  if (issuedFor.userId !== session.userId) throw new AccountError('passkey_invalid');
  const verified = await verifyRegistrationResponse({
    response: response as unknown as RegistrationResponseJSON,
    expectedChallenge: challenge,
    expectedOrigin: ctx.relyingParty.origins,
    expectedRPID: ctx.relyingParty.id,
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!verified?.verified) throw new AccountError('passkey_invalid');
  const { credential } = verified.registrationInfo;
  return ctx.store.transaction(async (tx) => {
    await tx.users.lockUser(session.userId);
    const passkey = {
      userId: session.userId,
      credentialId: credential.id,
      publicKey: isoBase64URL.fromBuffer(credential.publicKey),
      counter: credential.counter,
      transports: (credential.transports ?? []).slice(0, 10),
      name,
      createdAt: ctx.now(),
    };
    const id = await tx.passkeys.add(passkey);
    if (id === undefined) throw new AccountError('passkey_exists');
    await recordEvent(ctx, tx, 'passkey.added', {
      userId: session.userId,
      client,
      data: { passkey_id: id, name },
    });
    await refreshSecondFactor(ctx, tx, session, client);
    return { ...passkey, id, lastUsedAt: null };
  });
}

export function listPasskeys(ctx: Pick<AccountsContext, 'store'>, userId: number): Promise<PasskeyRecord[]> {
  return ctx.store.passkeys.listOfUser(userId);
}

/** Removes one of the account's passkeys; with it gone, it signs in nowhere. */
export async function removePasskey(
  ctx: AccountsContext,
  session: ActiveSession,
  passkeyId: number,
  client: ClientInfo,
): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    await tx.users.lockUser(session.userId);
    if (!(await tx.passkeys.remove(session.userId, passkeyId))) throw new AccountError('passkey_not_found');
    await recordEvent(ctx, tx, 'passkey.removed', {
      userId: session.userId,
      client,
      data: { passkey_id: passkeyId },
    });
    await refreshSecondFactor(ctx, tx, session, client);
  });
}

/**
 * Brings `users.mfa_enabled` up to date after a passkey was added or removed (under the user's row lock);
 * when the second step turns on or off with it, that is an event and the owner is told.
 */
async function refreshSecondFactor(
  ctx: Pick<AccountsContext, 'now' | 'mail'>,
  tx: Store,
  user: { userId: number; email: string },
  client: ClientInfo,
): Promise<void> {
  const { before, after } = await syncSecondFactorFlag(tx, user.userId);
  if (before === after) return;
  await recordEvent(ctx, tx, after ? 'user.mfa.enabled' : 'user.mfa.disabled', {
    userId: user.userId,
    client,
    data: { method: 'webauthn' },
  });
  await queueMail(ctx, tx, {
    userId: user.userId,
    kind: after ? 'mfa_enabled' : 'mfa_disabled',
    to: user.email,
  });
}

function passkeyNameOf(value: unknown): string {
  if (value === undefined || value === null) return DEFAULT_NAME;
  if (typeof value !== 'string') throw new AccountError('passkey_name_invalid');
  const name = value.trim();
  if (name.length > PASSKEY_NAME_MAX) throw new AccountError('passkey_name_invalid');
  return name || DEFAULT_NAME;
}
