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
 * Every format is read strictly first (hash-format.ts: parameters in any order, bounded by what they mean) and
 * computed from that reading only, off the event loop (node:crypto's async pbkdf2 and scrypt, @node-rs/argon2
 * and @node-rs/bcrypt on the libuv thread pool).
 *
 * Unsalted legacy formats (md5, unsalted_md5, sha1, unsalted_sha1, crypt) are not verified here at all: the
 * import refuses them by default, and a hash that starts with "!" is Django's unusable password.
 */
import { createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';
import { argon2Phc, readStoredHash, type StoredHash } from './hash-format.js';

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

/**
 * Why this Django hash will not be computed (not readable by hash-format.ts: out of bounds, malformed), or
 * undefined when it may be. Only meaningful for a `supported` hash.
 */
export function djangoHashRefusal(encoded: string): string | undefined {
  if (classifyDjangoHash(encoded).kind !== 'supported') return undefined;
  const reading = readStoredHash(encoded);
  return reading.ok ? undefined : reading.reason;
}

/** Verifies a password against a Django hash as stored; false for anything unreadable or unsupported. */
export async function verifyDjangoPassword(encoded: string, password: string): Promise<boolean> {
  if (classifyDjangoHash(encoded).kind !== 'supported') return false;
  const reading = readStoredHash(encoded);
  return reading.ok && verifyReadHash(reading.hash, password);
}

/**
 * Verifies a password against a hash read by `readStoredHash`: only its typed parameters are used, so nothing
 * beyond the parser's bounds is ever computed. False on any failure.
 */
export async function verifyReadHash(hash: StoredHash, password: string): Promise<boolean> {
  try {
    switch (hash.kind) {
      case 'argon2':
        return await verifyArgon2(argon2Phc(hash), password);
      case 'pbkdf2': {
        const derived = await pbkdf2Async(
          password,
          hash.salt,
          hash.iterations,
          hash.hash.length,
          hash.digest,
        );
        return timingSafeEqual(derived, hash.hash);
      }
      case 'bcrypt': {
        const input = hash.prehashed ? createHash('sha256').update(password).digest('hex') : password;
        return await verifyBcrypt(input, hash.bcrypt);
      }
      case 'scrypt': {
        const { N, r, p } = hash;
        const derived = await scryptAsync(password, hash.salt, 64, { N, r, p, maxmem: 256 * N * r });
        return timingSafeEqual(derived, hash.hash);
      }
    }
  } catch {
    return false;
  }
}
