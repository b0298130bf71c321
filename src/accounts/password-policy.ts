import { dictionary } from '@zxcvbn-ts/language-common';
import { AccountError } from './errors.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * NIST SP 800-63B: length and a blocklist, no composition rules. The blocklist is zxcvbn-ts's maintained
 * list of common passwords (about 49,000, from real breach corpora), compared case-insensitively.
 */
const COMMON_PASSWORDS = new Set(
  dictionary['passwords-common'].filter((p) => p.length >= MIN_PASSWORD_LENGTH).map((p) => p.toLowerCase()),
);

export const PASSWORD_MESSAGES = {
  notString: 'password must be a string',
  tooShort: `password must be at least ${MIN_PASSWORD_LENGTH} characters`,
  tooLong: `password must be at most ${MAX_PASSWORD_LENGTH} characters`,
  tooCommon: 'this password is too common, please choose a different one',
} as const;

/** NFKC, so the same password typed on different keyboards or input methods verifies the same way. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Counts code points, not UTF-16 units: an emoji is one character to the person typing it. */
function characterCount(text: string): number {
  return Array.from(text).length;
}

/**
 * True when the value cannot be a password Ras would ever have stored: not a string, or too long.
 * Checked before any hashing, so a megabyte "password" costs nothing.
 */
export function isImpossiblePassword(value: unknown): boolean {
  // Twice the limit in UTF-16 units bounds the work of normalizing before counting exactly.
  return typeof value !== 'string' || value.length > 2 * MAX_PASSWORD_LENGTH;
}

/**
 * The normalized password when the signup policy accepts it; otherwise throws `password_refused`
 * with the reason. Lengths are counted in code points of the NFKC form.
 */
export function acceptNewPassword(value: unknown): string {
  if (typeof value !== 'string')
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.notString });
  if (isImpossiblePassword(value))
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.tooLong });
  const password = normalizePassword(value);
  const length = characterCount(password);
  if (length < MIN_PASSWORD_LENGTH)
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.tooShort });
  if (length > MAX_PASSWORD_LENGTH)
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.tooLong });
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.tooCommon });
  }
  return password;
}
