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
