import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import { isDjangoHash, verifyDjangoPassword } from './django-passwords.js';

/** OWASP's argon2id minimum (m=19 MiB, t=2, p=1). Raising any of these upgrades hashes at the next login. */
export const ARGON2_PARAMS = {
  // Algorithm is a const enum, which isolated modules cannot read; 2 is its Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

const ARGON2_PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** True when the hash is not argon2id with today's parameters, so a successful login should rehash it. */
export function needsRehash(storedHash: string): boolean {
  const match = ARGON2_PHC.exec(storedHash);
  if (!match) return true;
  const [, m, t, p] = match.map(Number);
  return m !== ARGON2_PARAMS.memoryCost || t !== ARGON2_PARAMS.timeCost || p !== ARGON2_PARAMS.parallelism;
}

/**
 * argon2id hashing and verification, off the event loop and bounded. @node-rs/argon2 computes on the libuv
 * thread pool; the limiter keeps at most `concurrency` computations in flight (each takes 19 MiB), queues the
 * rest, and leaves pool threads free for other work. A login storm therefore costs bounded memory and never
 * stalls the event loop, it only waits longer.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private dummyHash: Promise<string> | undefined;

  constructor(readonly concurrency: number = availableParallelism()) {
    this.limit = pLimit(concurrency);
  }

  /** Hashes waiting for a slot (a gauge for metrics and load tests). */
  get queued(): number {
    return this.limit.pendingCount;
  }

  /** Hashes being computed now. */
  get running(): number {
    return this.limit.activeCount;
  }

  /** argon2id of an already NFKC-normalized password. */
  hash(password: string): Promise<string> {
    return this.limit(() => hash(password, ARGON2_PARAMS));
  }

  /**
   * Checks a password against a stored hash: Ras's argon2id, or a hash imported from Django (see
   * django-passwords.ts). `original` is the password as typed, before NFKC: Django hashed it unnormalized,
   * so an imported hash is tried with that form too. An unusable or unknown hash never matches.
   */
  async verify(storedHash: string, password: string, original: string = password): Promise<boolean> {
    if (storedHash.startsWith('$argon2')) {
      return this.limit(() => verify(storedHash, password)).catch(() => false);
    }
    if (!isDjangoHash(storedHash)) return false;
    if (await this.limit(() => verifyDjangoPassword(storedHash, original))) return true;
    return original !== password && this.limit(() => verifyDjangoPassword(storedHash, password));
  }

  /**
   * A hash of a random password, made once. Verifying against it when the email is unknown makes an unknown
   * email cost the same as a wrong password, so response time does not tell which emails have accounts.
   */
  dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }
}
