import { generateHOTP } from '@oslojs/otp';
import { describe, expect, it } from 'vitest';
import { matchingStep, STEP_SECONDS, timeStep, totpCode, totpUrl } from './totp.js';

// RFC 6238 appendix B: the SHA-1 seed is the ASCII "12345678901234567890".
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238, through @oslojs/otp)', () => {
  it('computes the RFC 6238 test vectors (SHA-1, 8 digits) and their 6-digit forms', () => {
    const key = Buffer.from('12345678901234567890');
    for (const [seconds, expected] of RFC_VECTORS) {
      expect(generateHOTP(key, BigInt(Math.floor(seconds / 30)), 8)).toBe(expected);
      // Six digits are the same truncation modulo 10^6.
      expect(totpCode(RFC_SECRET, timeStep(seconds * 1000))).toBe(expected.slice(2));
    }
  });

  it('accepts one step of drift either way, at the exact edges, and no more (clock injected)', () => {
    const step = 58_000_000;
    const code = totpCode(RFC_SECRET, step);
    const startOf = (s: number) => s * STEP_SECONDS * 1000;
    expect(matchingStep(RFC_SECRET, code, startOf(step))).toBe(step);
    expect(matchingStep(RFC_SECRET, code, startOf(step - 1))).toBe(step); // the phone runs ahead
    expect(matchingStep(RFC_SECRET, code, startOf(step + 2) - 1)).toBe(step); // the phone runs behind
    expect(matchingStep(RFC_SECRET, code, startOf(step - 1) - 1)).toBeUndefined();
    expect(matchingStep(RFC_SECRET, code, startOf(step + 2))).toBeUndefined();
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 123456', code + ' '])
      expect(matchingStep(RFC_SECRET, bad, startOf(step))).toBeUndefined();
  });

  it('makes the otpauth URL authenticator apps read', () => {
    const url = new URL(totpUrl('Ras', 'user@user.com', RFC_SECRET));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(url.searchParams.get('secret')).toBe(RFC_SECRET);
    expect(url.searchParams.get('issuer')).toBe('Ras');
    expect(url.searchParams.get('digits')).toBe('6');
    expect(url.searchParams.get('period')).toBe('30');
  });
});
