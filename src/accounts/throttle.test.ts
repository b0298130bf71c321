import { describe, expect, it } from 'vitest';
import { ACCOUNT_POLICY, ADDRESS_POLICY, blockDelayMs } from './throttle.js';

describe('blockDelayMs', () => {
  it('blocks an address from its 5th consecutive failure, doubling from 1 s up to 15 minutes', () => {
    expect([1, 2, 3, 4].map((n) => blockDelayMs(ADDRESS_POLICY, n))).toEqual([0, 0, 0, 0]);
    expect([5, 6, 7, 8, 9].map((n) => blockDelayMs(ADDRESS_POLICY, n))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
    expect(blockDelayMs(ADDRESS_POLICY, 100)).toBe(15 * 60_000);
    expect(blockDelayMs(ADDRESS_POLICY, 10_000)).toBe(15 * 60_000);
  });

  it('blocks an account from its 20th consecutive failure, with a short backoff capped at a minute', () => {
    expect(blockDelayMs(ACCOUNT_POLICY, 19)).toBe(0);
    expect(blockDelayMs(ACCOUNT_POLICY, 20)).toBe(1000);
    expect(blockDelayMs(ACCOUNT_POLICY, 30)).toBe(60_000);
  });

  it('makes 100 consecutive failures on one account take over an hour', () => {
    let waited = 0;
    for (let n = 1; n < 100; n++) waited += blockDelayMs(ACCOUNT_POLICY, n);
    expect(waited).toBeGreaterThan(60 * 60_000);
  });
});
