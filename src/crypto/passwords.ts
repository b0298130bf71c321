import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import { isDjangoHash, verifyReadHash } from './django-passwords.js';
import { FailureFloor } from './failure-floor.js';
import { readStoredHash, type StoredHash } from './hash-format.js';

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

/** The hash queue is full: the request is answered 503 at once rather than queued for seconds. */
export class HasherBusyError extends Error {
  constructor() {
    super('password hashing queue is full');
    this.name = 'HasherBusyError';
  }
}

/** The request that wanted this hash has gone: the work was dropped before it started. */
export class HashAbandonedError extends Error {
  constructor() {
    super('the client went away before its password was hashed');
    this.name = 'HashAbandonedError';
  }
}

/** A verification's outcome; `refusal` says why the stored hash was not computed (parameters out of bounds). */
export interface Verification {
  matches: boolean;
  refusal?: string;
}

/**
 * What verifying this stored hash takes: a hash read within bounds (Ras's own argon2id, or a Django format), or
 * nothing but the dummy (unusable, unknown, or refused by the reader, with its reason).
 */
type VerificationPlan =
  { kind: 'compute'; hash: StoredHash; django: boolean } | { kind: 'dummy'; refusal?: string };

function planVerification(storedHash: string): VerificationPlan {
  const django = !storedHash.startsWith('$argon2');
  if (django && !isDjangoHash(storedHash)) return { kind: 'dummy' };
  const reading = readStoredHash(storedHash);
  return reading.ok
    ? { kind: 'compute', hash: reading.hash, django }
    : { kind: 'dummy', refusal: reading.reason };
}

/**
 * Password hashing and verification, off the event loop and bounded. Every computation (argon2id, and the
 * Django formats of imported accounts) runs on the libuv thread pool; a limiter keeps at most `concurrency`
 * in flight (argon2id takes 19 MiB each) and at most `maxQueued` waiting: past that a request is refused at
 * once (`HasherBusyError`, a 503), so a storm costs bounded memory and bounded waiting, never a stalled
 * event loop or a connection cut after seconds in a queue. Work whose client has gone (`signal`) is dropped
 * when its turn comes, before it is computed.
 *
 * A failed verification never costs less than a native argon2id failure, whatever the stored hash: an
 * unusable, unknown or out-of-bounds hash is replaced by the dummy hash, and a failed Django-format check is
 * followed by a dummy check. And no failure answers sooner than the failure floor: the slowest foreign hash
 * measured (failure-floor.ts). Time therefore tells neither an unusable account from a real one, nor an
 * account imported with a slow hash from a native one or an unknown email.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;
  private dummyHash: Promise<string> | undefined;

  constructor(
    readonly concurrency: number = availableParallelism(),
    readonly maxQueued: number = 64 * concurrency,
    /** Every failed check lasts at least as long as the slowest foreign hash measured (failure-floor.ts). */
    readonly failureFloor: FailureFloor = new FailureFloor(),
  ) {
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
  hash(password: string, signal?: AbortSignal): Promise<string> {
    return this.schedule(() => hash(password, ARGON2_PARAMS), signal);
  }

  /**
   * Checks a password against a stored hash: Ras's argon2id, or a hash imported from Django (see
   * django-passwords.ts). `original` is the password as typed, before NFKC: Django hashed it unnormalized,
   * so an imported hash is tried with that form too. An unusable, unknown or out-of-bounds hash never matches.
   */
  async verify(
    storedHash: string,
    password: string,
    original: string = password,
    signal?: AbortSignal,
  ): Promise<Verification> {
    const started = this.failureFloor.now();
    const plan = planVerification(storedHash);
    const dummy = await this.dummy();
    const matches = await this.schedule(async () => {
      if (plan.kind === 'compute') {
        if (!plan.django) return verifyReadHash(plan.hash, password);
        const computing = this.failureFloor.now();
        const matched = await verifyDjango(plan.hash, password, original);
        if (!matched) await verifyArgon2(dummy, password);
        this.failureFloor.observe(this.failureFloor.now() - computing);
        return matched;
      }
      // A failure costs one argon2id verification at least: the stored one, or the dummy in its place.
      await verifyArgon2(dummy, password);
      return false;
    }, signal);
    // Whatever the stored hash, a failure takes as long as the slowest foreign hash would.
    if (!matches) await this.failureFloor.pad(started);
    return plan.kind === 'dummy' && plan.refusal ? { matches, refusal: plan.refusal } : { matches };
  }

  /**
   * Measures a check of this stored hash (with a random password, so it fails), raising the failure floor to
   * it: a server does this at start for the slowest kind of hash its database holds.
   */
  async measure(storedHash: string): Promise<void> {
    await this.verify(storedHash, randomBytes(16).toString('hex'));
  }

  /**
   * A hash of a random password, made once (outside the limiter, so no queued verification waits on it).
   * Verifying against it when the email is unknown makes an unknown email cost the same as a wrong password,
   * so response time does not tell which emails have accounts.
   */
  dummy(): Promise<string> {
    this.dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2_PARAMS);
    return this.dummyHash;
  }

  /** Runs `work` in a hasher slot, or refuses at once (queue full, client gone). */
  protected schedule<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new HashAbandonedError());
    if (this.limit.pendingCount >= this.maxQueued) return Promise.reject(new HasherBusyError());
    return this.limit(() => {
      if (signal?.aborted) throw new HashAbandonedError();
      return work();
    });
  }
}

function verifyArgon2(storedHash: string, password: string): Promise<boolean> {
  return verify(storedHash, password).catch(() => false);
}

/** Django hashed the password as typed; Ras verifies the NFKC form too (what it hashes itself). */
async function verifyDjango(hash: StoredHash, password: string, original: string): Promise<boolean> {
  if (await verifyReadHash(hash, original)) return true;
  return original !== password && verifyReadHash(hash, password);
}
