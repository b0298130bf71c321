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
 * A success clears both counters. Unknown emails are counted like known ones, so throttling does not reveal
 * which accounts exist. Refused (429) attempts are not counted: waiting out the delay is always enough.
 */
import type { FailureCounter, ThrottleStore } from './storage.js';

export interface ThrottlePolicy {
  /** The failure that starts the first block: from this one on, each failure blocks the key. */
  failuresBeforeBlock: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A failure older than this (counted from the last one) starts the count over. */
  windowMs: number;
}

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

interface ThrottleKeys {
  address: string;
  account: string;
}

function keysOf(email: string, ip: string | null): ThrottleKeys {
  return { address: `address:${email} ${ip ?? 'unknown'}`, account: `account:${email}` };
}

/** What `check` saw, handed back to `failed`/`succeeded` (so the common success needs no write). */
export interface ThrottleState {
  /** 0 when the attempt may go ahead; otherwise refuse it and say when to retry. */
  retryAfterSeconds: number;
  keys: ThrottleKeys;
  address?: FailureCounter;
  account?: FailureCounter;
}

export class LoginThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly now: () => number,
  ) {}

  /** Whether this email may be tried from this address now, and if not, for how long it may not. */
  async check(email: string, ip: string | null): Promise<ThrottleState> {
    const keys = keysOf(email, ip);
    const counters = await this.store.readCounters([keys.address, keys.account]);
    const address = counters.get(keys.address);
    const account = counters.get(keys.account);
    const now = this.now();
    const knownAddress = (address?.lastSuccessAt ?? -Infinity) > now - KNOWN_ADDRESS_MS;
    const blockedUntil = Math.max(
      address?.blockedUntil ?? 0,
      knownAddress ? 0 : (account?.blockedUntil ?? 0),
    );
    const retryAfterSeconds = blockedUntil > now ? Math.ceil((blockedUntil - now) / 1000) : 0;
    return { retryAfterSeconds, keys, address, account };
  }

  /** Counts a failed attempt under both keys and blocks them when their policy says so. */
  async failed(state: ThrottleState): Promise<void> {
    const now = this.now();
    await Promise.all([
      this.count(state.keys.address, ADDRESS_POLICY, now),
      this.count(state.keys.account, ACCOUNT_POLICY, now),
    ]);
  }

  /** Clears both counters after a success; writes only when there is something to clear or remember. */
  async succeeded(state: ThrottleState): Promise<void> {
    const now = this.now();
    const stale = (state.address?.lastSuccessAt ?? -Infinity) < now - 24 * 60 * MINUTE;
    const writes: Promise<void>[] = [];
    if (stale || (state.address?.failures ?? 0) > 0)
      writes.push(this.store.recordSuccess(state.keys.address, now));
    if ((state.account?.failures ?? 0) > 0) writes.push(this.store.recordSuccess(state.keys.account, now));
    await Promise.all(writes);
  }

  private async count(key: string, policy: ThrottlePolicy, now: number): Promise<void> {
    const failures = await this.store.recordFailure(key, now, policy.windowMs);
    const delay = blockDelayMs(policy, failures);
    if (delay > 0) await this.store.blockUntil(key, now + delay);
  }
}
