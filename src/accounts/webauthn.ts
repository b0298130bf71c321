/**
 * The WebAuthn ceremonies' shared parts (ASVS 6.6, 6.7): challenges and the checks every response gets.
 * A challenge is 256 random bits (the library's default is 128), lives CHALLENGE_TTL_MS, is stored only as
 * SHA-256 and is deleted by the one statement that uses it, so it works once on any instance. User
 * verification is required in every ceremony: a passkey is then a factor of its own (something held, unlocked
 * by something known or something one is), which is why it may replace both the password and the second step.
 */
import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL } from '@simplewebauthn/server/helpers';
import type { AccountsContext, ClientInfo } from './context.js';
import { AccountError } from './errors.js';
import { recordEvent } from './events.js';
import type { PasskeyRecord, WebAuthnChallenge, WebAuthnPurpose } from './storage.js';
import { hashToken } from '../crypto/tokens.js';

export const CHALLENGE_TTL_MS = 300_000;
/** Largest JSON response accepted from a browser, in characters per field (a credential id is ≤ 1023 bytes). */
const FIELD_MAX = 16_384;
/** The response's base64url fields the library decodes: strings or absent. */
const ENCODED_FIELDS = ['attestationObject', 'authenticatorData', 'signature', 'userHandle', 'publicKey'];

/** A fresh challenge: 32 random bytes. */
export function newChallenge(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(32));
}

/** Stores the challenge of options just generated (as SHA-256 of its base64url form). */
export async function saveChallenge(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  challenge: string,
  issuedFor: WebAuthnChallenge,
): Promise<void> {
  const now = ctx.now();
  await ctx.store.passkeys.saveChallenge({
    ...issuedFor,
    challengeHash: hashToken(challenge),
    now,
    expiresAt: now + CHALLENGE_TTL_MS,
  });
}

/** The browser's answer to a ceremony: what every verification needs from it, or passkey_invalid. */
export interface CeremonyResponse {
  id: string;
  rawId: string;
  type: 'public-key';
  response: Record<string, unknown> & { clientDataJSON: string };
  clientExtensionResults: Record<string, unknown>;
  [key: string]: unknown;
}

/** Checks the shape the library relies on, so a malformed body is a 400 and never a thrown TypeError. */
function ceremonyResponseOf(value: unknown): CeremonyResponse {
  if (!isRecord(value) || !isRecord(value.response)) throw new AccountError('passkey_invalid');
  const fields = [value.id, value.rawId, value.response.clientDataJSON];
  if (!fields.every((field) => typeof field === 'string' && field.length > 0 && field.length <= FIELD_MAX))
    throw new AccountError('passkey_invalid');
  for (const name of ENCODED_FIELDS) {
    const field = value.response[name];
    if (field !== undefined && (typeof field !== 'string' || field.length > FIELD_MAX))
      throw new AccountError('passkey_invalid');
  }
  const transports = value.response.transports;
  if (
    transports !== undefined &&
    !(Array.isArray(transports) && transports.every((t) => typeof t === 'string'))
  )
    throw new AccountError('passkey_invalid');
  if (value.type !== 'public-key') throw new AccountError('passkey_invalid');
  return {
    ...value,
    clientExtensionResults: isRecord(value.clientExtensionResults) ? value.clientExtensionResults : {},
  } as CeremonyResponse;
}

/**
 * Reads the browser's response (a malformed one is passkey_invalid) and takes the challenge it answers (read
 * from its client data) out of the store: it works once. The signature over it is verified afterwards; a
 * response whose challenge was never issued, was used, has expired or was issued for another purpose is
 * refused here.
 */
export async function takeChallenge(
  ctx: Pick<AccountsContext, 'store' | 'now'>,
  value: unknown,
  purpose: WebAuthnPurpose,
): Promise<{ response: CeremonyResponse; challenge: string; issuedFor: WebAuthnChallenge }> {
  const response = ceremonyResponseOf(value);
  let challenge: unknown;
  try {
    challenge = decodeClientDataJSON(response.response.clientDataJSON).challenge;
  } catch {
    throw new AccountError('passkey_invalid');
  }
  if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 200)
    throw new AccountError('passkey_invalid');
  const issuedFor = await ctx.store.passkeys.consumeChallenge(hashToken(challenge), purpose, ctx.now());
  if (!issuedFor) throw new AccountError('passkey_invalid');
  return { response, challenge, issuedFor };
}

/**
 * Options for `navigator.credentials.get()` (user verification required), their challenge stored for what
 * it is issued for. `allowed` lists the passkeys that may answer; none: any discoverable one (passwordless).
 */
export async function requestOptions(
  ctx: Pick<AccountsContext, 'store' | 'now' | 'relyingParty'>,
  issuedFor: WebAuthnChallenge,
  allowed: PasskeyRecord[] = [],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: ctx.relyingParty.id,
    challenge: newChallenge(),
    timeout: CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: allowed.map((passkey) => ({
      id: passkey.credentialId,
      transports: passkey.transports,
    })),
  });
  await saveChallenge(ctx, options.challenge, issuedFor);
  return options;
}

/** The user handle passkeys of this account carry: its id, which every answer shows anyway (no email). */
export function userHandleOf(userId: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(String(userId), 'utf8'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A signature the passkey really made over a challenge Ras issued: recorded as a use when the login opens. */
export interface VerifiedAssertion {
  passkey: PasskeyRecord;
  newCounter: number;
}

/**
 * Verifies an authentication response: the passkey it names, its signature over the challenge with the
 * origin and RP ID, user verification, and the signature counter. A counter that did not move forward (for a
 * passkey that counts) means a cloned authenticator: the login is refused and the event log says so.
 * Undefined when the response does not verify; the challenge is used up either way.
 */
export async function verifyAssertion(
  ctx: Pick<AccountsContext, 'store' | 'now' | 'relyingParty'>,
  response: CeremonyResponse,
  challenge: string,
  client: ClientInfo,
): Promise<VerifiedAssertion | undefined> {
  if (response.id !== response.rawId) return undefined;
  const passkey = await ctx.store.passkeys.findByCredentialId(response.id);
  if (!passkey) return undefined;
  const userHandle = response.response.userHandle;
  if (typeof userHandle === 'string' && userHandle !== isoBase64URL.fromBuffer(userHandleOf(passkey.userId)))
    return undefined;
  const verified = await verifyAuthenticationResponse({
    response: response as unknown as AuthenticationResponseJSON,
    expectedChallenge: challenge,
    expectedOrigin: ctx.relyingParty.origins,
    expectedRPID: ctx.relyingParty.id,
    // The counter is checked below, after the signature, so that only a genuine signature can report a clone.
    credential: { id: passkey.credentialId, publicKey: isoBase64URL.toBuffer(passkey.publicKey), counter: 0 },
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!verified?.verified) return undefined;
  const newCounter = verified.authenticationInfo.newCounter;
  if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
    await ctx.store.transaction((tx) =>
      recordEvent(ctx, tx, 'user.login.failed', {
        userId: passkey.userId,
        client,
        data: {
          reason: 'passkey_counter_regressed',
          passkey_id: passkey.id,
          counter_seen: newCounter,
          counter_stored: passkey.counter,
        },
      }),
    );
    return undefined;
  }
  return { passkey, newCounter };
}
