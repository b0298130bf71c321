/**
 * TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps) over @oslojs/otp's HOTP. The library is small and does one
 * thing; it is given the counter (the time step) rather than reading the clock itself, so Ras can use its
 * injected clock, accept one step of drift each way, and know which step a code matched: the step is what is
 * recorded to accept each code once.
 */
import { randomBytes } from 'node:crypto';
import { decodeBase32IgnorePadding, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, generateHOTP, verifyHOTP } from '@oslojs/otp';

export const STEP_SECONDS = 30;
export const DIGITS = 6;
/** Steps accepted either side of the current one (clock drift between the server and the phone). */
export const DRIFT_STEPS = 1;
const SECRET_BYTES = 20; // 160 bits, as RFC 4226 recommends for HMAC-SHA-1

export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / STEP_SECONDS);
}

/** A new secret, in base32 (what authenticator apps take). */
export function newTotpSecret(): string {
  return encodeBase32UpperCaseNoPadding(randomBytes(SECRET_BYTES));
}

/** The `otpauth://totp/…` URL a QR code carries. */
export function totpUrl(issuer: string, accountName: string, secret: string): string {
  return createTOTPKeyURI(issuer, accountName, decodeBase32IgnorePadding(secret), STEP_SECONDS, DIGITS);
}

/** The code of a time step (tests, and nothing else, need to make codes). */
export function totpCode(secret: string, step: number): string {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(step), DIGITS);
}

/** The step within the drift window whose code this is, or undefined. */
export function matchingStep(secret: string, code: string, nowMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const key = decodeBase32IgnorePadding(secret);
  const current = timeStep(nowMs);
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++)
    if (verifyHOTP(key, BigInt(step), DIGITS, code)) return step;
  return undefined;
}
