/**
 * Login throttling (OWASP ASVS 6.3.1, NIST SP 800-63B 5.2.2). Failures are counted under two keys:
 *
 * - the account seen from one client address: from the 5th consecutive failure within 15 minutes on, each
 *   failure blocks every further attempt from that address, with any password (429), for a delay that doubles
 *   with each failure, from 1 second up to 15 minutes. So the 6th rapid attempt is refused; a patient guesser
 *   gets about a dozen tries per quarter hour.
 * - the account from all addresses: from the 20th consecutive failure (each within an hour of the last) on,
 *   the account is blocked for a delay doubling from 1 second up to 60 seconds, so 100 consecutive failures
 *   take over an hour. To keep an attacker from locking the owner out everywhere, an address that has logged in to this
 *   account successfully in the last 30 days is exempt from the account-wide block (its own per-address
 *   counter still applies).
 *
 * Every attempt is counted before its password is checked (`reserve`), so simultaneous attempts are limited
 * as sequential ones are. A success clears both counters. Unknown emails are counted like known ones, so
 * throttling does not reveal which accounts exist. Refused (429) attempts are not counted: waiting out the
 * delay is always enough.
 */
import type {
  AttemptCounters,
  AttemptKeys,
  AttemptReservation,
  FailureCounter,
  ReservationOutcome,
  ThrottlePolicy,
  ThrottleStore,
} from './storage.js';

export type { ThrottlePolicy } from './storage.js';

const MINUTE = 60_000;

export const ADDRESS_POLICY: ThrottlePolicy = {
  failuresBeforeBlock: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * MINUTE,
  windowMs: 15 * MINUTE,
};

export const ACCOUNT_POLICY: ThrottlePolicy = {
  failuresBeforeBlock: 20,
  baseDelayMs: 1000,
  maxDelayMs: MINUTE,
  windowMs: 60 * MINUTE,
};

/** An address that logged in successfully this recently is not blocked by the account-wide counter. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 60 * MINUTE;

/** How long to block after the `failures`-th consecutive failure; 0 before `failuresBeforeBlock`. */
export function blockDelayMs(policy: ThrottlePolicy, failures: number): number {
  const over = failures - policy.failuresBeforeBlock;
  if (over < 0) return 0;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(over, 30));
}

function keysOf(email: string, addressKey: string): AttemptKeys {
  return { address: `${addressPrefixOf(email)}${addressKey}`, account: `account:${email}` };
}

/** Every per-address key of an account starts with this. */
const addressPrefixOf = (email: string) => `address:${email} `;

/**
 * One attempt, counted before its password is checked. `reserve` is the rule every store applies in one
 * atomic step (a transaction with row locks, or a Lua script): while either key is blocked the attempt is
 * refused and counts nothing; otherwise both keys count it as a failure and block themselves when their
 * policy says so. A success then clears both. Counting first is what makes the limits hold for simultaneous
 * attempts: the 6th of twelve parallel guesses from one address finds the block the 5th set, before any
 * hash is computed.
 */
export function reserve(attempt: AttemptReservation, counters: AttemptCounters): ReservationOutcome {
  const { now } = attempt;
  const knownAddress = (counters.address?.lastSuccessAt ?? -Infinity) > now - attempt.knownAddressMs;
  const blockedUntil = Math.max(
    counters.address?.blockedUntil ?? 0,
    knownAddress ? 0 : (counters.account?.blockedUntil ?? 0),
  );
  if (blockedUntil > now) return { admitted: false, blockedUntil };
  return {
    admitted: true,
    address: countFailure(counters.address, attempt.address.policy, now),
    account: countFailure(counters.account, attempt.account.policy, now),
  };
}

function countFailure(
  counter: FailureCounter | undefined,
  policy: ThrottlePolicy,
  now: number,
): FailureCounter {
  const fresh = counter === undefined || counter.lastFailureAt <= now - policy.windowMs;
  const failures = fresh ? 1 : counter.failures + 1;
  const delay = blockDelayMs(policy, failures);
  return {
    failures,
    lastFailureAt: now,
    blockedUntil: Math.max(counter?.blockedUntil ?? 0, delay > 0 ? now + delay : 0),
    lastSuccessAt: counter?.lastSuccessAt ?? null,
  };
}

/**
 * An attempt the throttle let through: settle it with `succeeded` when the password was right, or `failed`
 * when it was not (or the check never finished).
 */
export interface AdmittedAttempt {
  keys: AttemptKeys;
}

/** A refused attempt: when to try again, and whether attempts on the account are being checked right now. */
export interface RefusedAttempt {
  retryAfterSeconds: number;
  /**
   * Attempts on this account were being checked in this process when this one was refused: the block may
   * come from them (counted before their check, as every attempt is), not from attempts that failed. Said
   * apart so that a person whose right password is among simultaneous logins is not told their attempts failed.
   */
  inProgress: boolean;
}

export class LoginThrottle {
  /** Attempts admitted and not yet settled in this process, by account key. */
  readonly #checking = new Map<string, number>();

  constructor(
    private readonly store: ThrottleStore,
    private readonly now: () => number,
  ) {}

  /**
   * Counts an attempt on this email from this address before its password is checked. Returns the attempt,
   * or the seconds to wait when the email is blocked for this address (then nothing was counted).
   * `addressKey` is the client's address as limits count it (an IPv6 client by its /64).
   */
  async admit(email: string, addressKey: string): Promise<AdmittedAttempt | RefusedAttempt> {
    const keys = keysOf(email, addressKey);
    const now = this.now();
    const blockedUntil = await this.store.reserveAttempt({
      now,
      knownAddressMs: KNOWN_ADDRESS_MS,
      address: { key: keys.address, policy: ADDRESS_POLICY },
      account: { key: keys.account, policy: ACCOUNT_POLICY },
    });
    if (blockedUntil > now)
      return {
        retryAfterSeconds: Math.ceil((blockedUntil - now) / 1000),
        inProgress: (this.#checking.get(keys.account) ?? 0) > 0,
      };
    this.#checking.set(keys.account, (this.#checking.get(keys.account) ?? 0) + 1);
    return { keys };
  }

  /** The password was wrong (or never checked): the attempt stays counted as a failure. */
  failed(attempt: AdmittedAttempt): void {
    const left = (this.#checking.get(attempt.keys.account) ?? 1) - 1;
    if (left > 0) this.#checking.set(attempt.keys.account, left);
    else this.#checking.delete(attempt.keys.account);
  }

  /** Forgets every counter of the account (per account and per address): after a reset or a deletion. */
  clearAccount(email: string): Promise<void> {
    return this.store.clearAccount(`account:${email}`, addressPrefixOf(email));
  }

  /** The password was right: both counters start over, and the address is remembered as the owner's. */
  succeeded(attempt: AdmittedAttempt): Promise<void> {
    this.failed(attempt);
    return this.store.recordSuccess([attempt.keys.address, attempt.keys.account], this.now());
  }
}
