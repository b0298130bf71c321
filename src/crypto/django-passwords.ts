/**
 * Django's password hash formats, verified so that accounts imported from Django keep their passwords. Each
 * verified Django hash is replaced with argon2id at that login (`needsRehash` is true for all of them).
 * Formats as Django encodes them (django/contrib/auth/hashers.py):
 *
 *   pbkdf2_sha256$<iterations>$<salt>$<base64 hash>       (dklen = digest size)
 *   pbkdf2_sha1$<iterations>$<salt>$<base64 hash>
 *   argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>        (argon2i too: a PHC string after "argon2")
 *   bcrypt_sha256$<bcrypt of hex(sha256(password))>
 *   bcrypt$<bcrypt of password>
 *   scrypt$<n>$<salt>$<r>$<p>$<base64 hash>              (Django ≥ 4.0, dklen 64)
 *
 * Every format is computed off the event loop (node:crypto's async pbkdf2 and scrypt, @node-rs/argon2 and
 * @node-rs/bcrypt on the libuv thread pool), and only within the bounds of hash-limits.ts.
 *
 * Unsalted legacy formats (md5, unsalted_md5, sha1, unsalted_sha1, crypt) are not verified here at all: the
 * import refuses them by default, and a hash that starts with "!" is Django's unusable password.
 */
import { createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';
import {
  argon2ParamsRefusal,
  bcryptCostRefusal,
  pbkdf2IterationsRefusal,
  scryptParamsRefusal,
} from './hash-limits.js';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: string,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export type DjangoFormat = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'argon2' | 'bcrypt_sha256' | 'bcrypt' | 'scrypt';
export type RefusedFormat = 'md5' | 'unsalted_md5' | 'sha1' | 'unsalted_sha1' | 'crypt';

const SUPPORTED = new Set<string>([
  'pbkdf2_sha256',
  'pbkdf2_sha1',
  'argon2',
  'bcrypt_sha256',
  'bcrypt',
  'scrypt',
]);
const UNSALTED = new Set<string>(['md5', 'unsalted_md5', 'sha1', 'unsalted_sha1', 'crypt']);

/** What a Django `password` column holds, as Django's own identify_hasher() reads it. */
export function classifyDjangoHash(
  encoded: string,
):
  | { kind: 'supported'; format: DjangoFormat }
  | { kind: 'unusable' }
  | { kind: 'refused'; format: RefusedFormat }
  | { kind: 'unknown' } {
  if (encoded === '' || encoded.startsWith('!')) return { kind: 'unusable' };
  if (
    (encoded.length === 32 && !encoded.includes('$')) ||
    (encoded.length === 37 && encoded.startsWith('md5$$'))
  ) {
    return { kind: 'refused', format: 'unsalted_md5' };
  }
  if (encoded.length === 46 && encoded.startsWith('sha1$$'))
    return { kind: 'refused', format: 'unsalted_sha1' };
  const algorithm = encoded.split('$', 1)[0] ?? '';
  if (SUPPORTED.has(algorithm)) return { kind: 'supported', format: algorithm as DjangoFormat };
  if (UNSALTED.has(algorithm)) return { kind: 'refused', format: algorithm as RefusedFormat };
  return { kind: 'unknown' };
}

/** True when the hash is one of Django's supported formats (whatever its parameters). */
export function isDjangoHash(encoded: string): boolean {
  return classifyDjangoHash(encoded).kind === 'supported';
}

function equalBase64(expected: string, actual: Buffer): boolean {
  const wanted = Buffer.from(expected, 'base64');
  return wanted.length === actual.length && timingSafeEqual(wanted, actual);
}

/**
 * Why this Django hash will not be computed (parameters beyond hash-limits.ts), or undefined when it may be.
 * Only meaningful for a `supported` hash.
 */
export function djangoHashRefusal(encoded: string): string | undefined {
  const verdict = classifyDjangoHash(encoded);
  if (verdict.kind !== 'supported') return undefined;
  const parts = encoded.split('$');
  switch (verdict.format) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1':
      return pbkdf2IterationsRefusal(Number(parts[1]));
    case 'argon2':
      return argon2ParamsRefusal(encoded.slice('argon2'.length));
    case 'bcrypt_sha256':
      return bcryptCostRefusal(encoded.slice('bcrypt_sha256$'.length));
    case 'bcrypt':
      return bcryptCostRefusal(encoded.slice('bcrypt$'.length));
    case 'scrypt':
      return scryptParamsRefusal(Number(parts[1]), Number(parts[3]), Number(parts[4]));
  }
}

/**
 * Verifies a password against a Django hash; false for anything malformed or unsupported. The caller checks
 * `djangoHashRefusal` first: this computes whatever parameters the hash names.
 */
export async function verifyDjangoPassword(encoded: string, password: string): Promise<boolean> {
  const verdict = classifyDjangoHash(encoded);
  if (verdict.kind !== 'supported') return false;
  try {
    switch (verdict.format) {
      case 'pbkdf2_sha256':
      case 'pbkdf2_sha1': {
        const [, iterations, salt, hash] = encoded.split('$');
        const digest = verdict.format === 'pbkdf2_sha256' ? 'sha256' : 'sha1';
        const length = Buffer.from(hash ?? '', 'base64').length;
        if (!salt || !hash || length === 0) return false;
        return equalBase64(hash, await pbkdf2Async(password, salt, Number(iterations), length, digest));
      }
      case 'argon2':
        return await verifyArgon2(encoded.slice('argon2'.length), password);
      case 'bcrypt_sha256': {
        const prehashed = createHash('sha256').update(password).digest('hex');
        return await verifyBcrypt(prehashed, encoded.slice('bcrypt_sha256$'.length));
      }
      case 'bcrypt':
        return await verifyBcrypt(password, encoded.slice('bcrypt$'.length));
      case 'scrypt': {
        const [, n, salt, r, p, hash] = encoded.split('$');
        const N = Number(n);
        const R = Number(r);
        if (!salt || !hash || !(N > 1) || !(R > 0)) return false;
        const derived = await scryptAsync(password, salt, 64, { N, r: R, p: Number(p), maxmem: 256 * N * R });
        return equalBase64(hash, derived);
      }
    }
  } catch {
    return false;
  }
}
