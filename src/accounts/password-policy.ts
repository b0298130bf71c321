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
  contextual: 'password must not be based on your email address or the name of this service',
} as const;

/**
 * Context-specific words (ASVS 6.1.2/6.2.11): the service's own name and the account's email. A password that,
 * stripped of everything but letters, is one of these words (or the email's local part) is refused, as is one
 * that contains the whole email address. "ras2024!!" and "user@user.com1" are refused; "ras is my favourite
 * band" is not: the words only make a password weak when they are all there is to it.
 */
export const CONTEXT_WORDS = [
  'ras',
  'rasaccounts',
  'rasaccount',
  'accounts',
  'account',
  'login',
  'signup',
] as const;

const lettersOf = (text: string) => text.toLowerCase().replace(/[^\p{L}]/gu, '');

function isContextual(password: string, email: string | undefined): boolean {
  const letters = lettersOf(password);
  if ((CONTEXT_WORDS as readonly string[]).includes(letters)) return true;
  if (email === undefined) return false;
  const localPart = lettersOf(email.split('@')[0] ?? '');
  return (localPart.length > 0 && letters === localPart) || password.toLowerCase().includes(email);
}

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
 * The normalized password when the signup policy accepts it for the account with this (normalized) email;
 * otherwise throws `password_refused` with the reason. Lengths are counted in code points of the NFKC form.
 */
export function acceptNewPassword(value: unknown, email?: string): string {
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
  if (isContextual(password, email)) {
    throw new AccountError('password_refused', { reason: PASSWORD_MESSAGES.contextual });
  }
  return password;
}
