import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email.js';

describe('normalizeEmail', () => {
  it.each([
    ['user@user.com', 'user@user.com'],
    ['  User@User.COM ', 'user@user.com'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.com", "o'brien@example.com"],
    ['user@localhost', 'user@localhost'],
    ['ｕｓｅｒ@ｅｘａｍｐｌｅ.ｃｏｍ', 'user@example.com'],
  ])('accepts %j as %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it.each([
    'plainaddress',
    '@example.com',
    'user@',
    'user@-example.com',
    'user@example-.com',
    'us er@example.com',
    'user@exa mple.com',
    'user@@example.com',
    'üser@example.com',
    'user@exämple.com',
    'user\n@example.com',
    'user@example.com\u0000',
    'user\u200d@example.com',
    '\u202euser@example.com',
    `${'a'.repeat(250)}@b.cd`,
  ])('refuses %j', (input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });

  it.each([undefined, null, 42, true, {}, []])('refuses the non-string %j', (input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });

  it('is idempotent', () => {
    for (const input of ['  A@B.CD', 'ｕｓｅｒ@ｅｘａｍｐｌｅ.ｃｏｍ', 'x.y+z@q.io']) {
      const once = normalizeEmail(input);
      expect(normalizeEmail(once)).toBe(once);
    }
  });
});

describe('normalizeEmail (properties)', () => {
  const fullWidth = (s: string) =>
    s.replace(/[A-Za-z0-9]/g, (c) => String.fromCodePoint(c.codePointAt(0)! - 0x20 + 0xff00));

  it('is idempotent on any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.emailAddress(), fc.string({ unit: 'binary' })), (input) => {
        const once = normalizeEmail(input);
        return once === undefined || normalizeEmail(once) === once;
      }),
      { numRuns: 2000 },
    );
  });

  it('makes case, surrounding space and NFKC (full-width) variants of a valid address collide', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom('', ' ', '\t'), (email, pad) => {
        const plain = normalizeEmail(email);
        if (plain === undefined) return true;
        return (
          normalizeEmail(`${pad}${email.toUpperCase()}${pad}`) === plain &&
          normalizeEmail(fullWidth(email)) === plain
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts control or format characters', () => {
    const bad = fc.constantFrom(
      '\u0000',
      '\r',
      '\n',
      '\u0007',
      '\u200b',
      '\u200d',
      '\u202e',
      '\u2066',
      '\ufeff',
    );
    fc.assert(
      fc.property(fc.emailAddress(), bad, fc.nat(), (email, char, at) => {
        const i = 1 + (at % Math.max(1, email.length - 1));
        return normalizeEmail(email.slice(0, i) + char + email.slice(i)) === undefined;
      }),
      { numRuns: 1000 },
    );
  });
});
