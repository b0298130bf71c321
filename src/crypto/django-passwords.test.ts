import { describe, expect, it } from 'vitest';
import { classifyDjangoHash, verifyDjangoPassword } from './django-passwords.js';

describe('Django password hashes', () => {
  it.each([
    ['pbkdf2_sha256$260000$salt$aGFzaA==', { kind: 'supported', format: 'pbkdf2_sha256' }],
    ['pbkdf2_sha1$260000$salt$aGFzaA==', { kind: 'supported', format: 'pbkdf2_sha1' }],
    ['argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', { kind: 'supported', format: 'argon2' }],
    ['bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv', { kind: 'supported', format: 'bcrypt_sha256' }],
    ['bcrypt$$2b$12$abcdefghijklmnopqrstuv', { kind: 'supported', format: 'bcrypt' }],
    ['scrypt$16384$salt$8$1$aGFzaA==', { kind: 'supported', format: 'scrypt' }],
    ['md5$salt$0123456789abcdef0123456789abcdef', { kind: 'refused', format: 'md5' }],
    ['0123456789abcdef0123456789abcdef', { kind: 'refused', format: 'unsalted_md5' }],
    ['md5$$0123456789abcdef0123456789abcdef', { kind: 'refused', format: 'unsalted_md5' }],
    ['sha1$$0123456789abcdef0123456789abcdef01234567', { kind: 'refused', format: 'unsalted_sha1' }],
    ['sha1$salt$0123456789abcdef0123456789abcdef01234567', { kind: 'refused', format: 'sha1' }],
    ['crypt$$ab01234567890', { kind: 'refused', format: 'crypt' }],
    ['!VAtXiUsMHdV0aFVs1WaIZyzAbGMJLlQFls64jqC8', { kind: 'unusable' }],
    ['', { kind: 'unusable' }],
    ['whirlpool$1$x$y', { kind: 'unknown' }],
  ])('classifies %j', (encoded, expected) => {
    expect(classifyDjangoHash(encoded)).toEqual(expected);
  });

  it('verifies pbkdf2_sha256 as Django computes it (Django documentation vector)', async () => {
    // django.contrib.auth.hashers.make_password('password', 'seasalt', 'pbkdf2_sha256') with 260000 iterations
    const { pbkdf2Sync } = await import('node:crypto');
    const hash = pbkdf2Sync('password', 'seasalt', 260000, 32, 'sha256').toString('base64');
    const encoded = `pbkdf2_sha256$260000$seasalt$${hash}`;
    expect(await verifyDjangoPassword(encoded, 'password')).toBe(true);
    expect(await verifyDjangoPassword(encoded, 'Password')).toBe(false);
  });

  it('never verifies a malformed or refused hash', async () => {
    for (const encoded of [
      'pbkdf2_sha256$x$y$',
      'scrypt$0$s$8$1$aa',
      'bcrypt$$nonsense',
      'argon2$garbage',
      'md5$s$abc',
    ]) {
      expect(await verifyDjangoPassword(encoded, 'password')).toBe(false);
    }
  });
});
