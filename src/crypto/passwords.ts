import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id minimum (m=19 MiB, t=2, p=1). Raising any of these upgrades hashes at the next login. */
export const ARGON2_PARAMS = {
  // Algorithm is a const enum, which isolated modules cannot read; 2 is its Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * argon2id of an already NFKC-normalized password. @node-rs/argon2 computes on the libuv thread pool,
 * so the event loop keeps serving while a hash runs.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

/** Checks a password against a stored hash. An unusable or unknown hash never matches. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (!storedHash.startsWith('$argon2')) return false;
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

const ARGON2_PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** True when the hash is not argon2id with today's parameters, so a successful login should rehash it. */
export function needsRehash(storedHash: string): boolean {
  const match = ARGON2_PHC.exec(storedHash);
  if (!match) return true;
  const [, m, t, p] = match.map(Number);
  return m !== ARGON2_PARAMS.memoryCost || t !== ARGON2_PARAMS.timeCost || p !== ARGON2_PARAMS.parallelism;
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password, made once. Verifying against it when the email is unknown makes an unknown
 * email cost the same as a wrong password, so response time does not tell which emails have accounts.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}
