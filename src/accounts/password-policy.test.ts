import { describe, expect, it } from 'vitest';
import { AccountError } from './errors.js';
import { acceptNewPassword, isImpossiblePassword, PASSWORD_MESSAGES } from './password-policy.js';

function refusal(value: unknown): string | undefined {
  try {
    acceptNewPassword(value);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(AccountError);
    return (error as AccountError).reason;
  }
}

describe('acceptNewPassword', () => {
  it('has no composition rules: eight lower-case letters pass', () => {
    expect(acceptNewPassword('zqxjvbwk')).toBe('zqxjvbwk');
  });

  it('returns the NFKC form', () => {
    expect(acceptNewPassword('ｓｅｃｒｅｔ ｐｈｒａｓｅ')).toBe('secret phrase');
  });

  it('counts code points of the NFKC form', () => {
    expect(refusal('🔑'.repeat(7))).toBe(PASSWORD_MESSAGES.tooShort);
    expect(refusal('🔑'.repeat(8))).toBeUndefined();
    expect(refusal('🔑'.repeat(1024))).toBeUndefined();
    expect(refusal('a'.repeat(1025))).toBe(PASSWORD_MESSAGES.tooLong);
  });

  it.each(['password', 'password1', 'qwertyuiop', 'iloveyou', 'Password1', '12345678'])(
    'refuses the common %j',
    (pw) => {
      expect(refusal(pw)).toBe(PASSWORD_MESSAGES.tooCommon);
    },
  );

  it.each([undefined, null, 12345678, ['password'], {}])('refuses the non-string %j', (value) => {
    expect(refusal(value)).toBe(PASSWORD_MESSAGES.notString);
  });

  it.each([
    ['ras12345678', undefined],
    ['RAS-ACCOUNTS-2026', undefined],
    ['jane.doe1984', 'jane.doe@example.com'],
    ['my jane.doe@example.com!', 'jane.doe@example.com'],
  ])('refuses %j as based on context-specific words', (pw, email) => {
    expect(() => acceptNewPassword(pw, email)).toThrow(PASSWORD_MESSAGES.contextual);
  });

  it('accepts passwords that merely contain a context word', () => {
    expect(acceptNewPassword('ras is my favourite band', 'ras@example.com')).toBe('ras is my favourite band');
    expect(acceptNewPassword('jane likes long walks', 'jane@example.com')).toBe('jane likes long walks');
  });

  it('refuses a huge string without normalizing it', () => {
    expect(isImpossiblePassword('x'.repeat(2049))).toBe(true);
    expect(isImpossiblePassword('x'.repeat(2048))).toBe(false);
    expect(refusal('x'.repeat(1_000_000))).toBe(PASSWORD_MESSAGES.tooLong);
  });
});
