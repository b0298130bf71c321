import { dummyPasswordHash, verifyPassword } from '../crypto/passwords.js';
import { isImpossiblePassword, normalizePassword } from './password-policy.js';

/**
 * True when `value` is the password of the account with `storedHash`. With no account (`undefined`), a dummy
 * hash is verified instead, so an unknown email costs the same as a wrong password. A value that cannot be a
 * password (not a string, absurdly long) is refused before any hashing.
 */
export async function passwordMatches(storedHash: string | undefined, value: unknown): Promise<boolean> {
  if (typeof value !== 'string' || isImpossiblePassword(value)) return false;
  const password = normalizePassword(value);
  const verified = await verifyPassword(storedHash ?? (await dummyPasswordHash()), password);
  return verified && storedHash !== undefined;
}
