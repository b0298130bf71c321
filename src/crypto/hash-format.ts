/**
 * Stored password hashes, read strictly (issue 22). A hash carries its own cost, so an imported or tampered row
 * could ask one unauthenticated login for a gigabyte or an hour; the bounds below say what each parameter may
 * be, by what it means (memory, iterations, salt and digest lengths), and every hash is read by one parser
 * whose typed result is all the verifier takes. Spelling cannot get around a bound: parameters are accepted in
 * any order, but a duplicate, an unknown field, a missing one, a number with a sign or a leading zero, or a
 * salt or digest of the wrong length is refused, and so is any value beyond its bound.
 *
 * Formats: PHC strings for argon2 (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, Ras's own and Django's after
 * `argon2`), and Django's `pbkdf2_sha256`/`pbkdf2_sha1`, `bcrypt_sha256`/`bcrypt` and `scrypt`.
 */
import { HASH_LIMITS } from './hash-limits.js';

export type Argon2Variant = 'argon2id' | 'argon2i' | 'argon2d';

export type StoredHash =
  | {
      kind: 'argon2';
      variant: Argon2Variant;
      version: 16 | 19;
      memoryKiB: number;
      time: number;
      parallelism: number;
      /** Unpadded base64, as PHC writes them. */
      salt: string;
      hash: string;
    }
  | { kind: 'pbkdf2'; digest: 'sha256' | 'sha1'; iterations: number; salt: string; hash: Buffer }
  | { kind: 'bcrypt'; prehashed: boolean; cost: number; bcrypt: string }
  | { kind: 'scrypt'; N: number; r: number; p: number; salt: string; hash: Buffer };

export type HashReading = { ok: true; hash: StoredHash } | { ok: false; reason: string };

const refuse = (reason: string): HashReading => ({ ok: false, reason });

/** A decimal without sign or leading zero, within [min, max]; undefined otherwise. */
function canonicalInteger(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** Bytes of canonical base64 (`padded` or not); undefined for anything else. */
function base64Bytes(text: string | undefined, padded: boolean): Buffer | undefined {
  if (text === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const canonical = bytes.toString('base64');
  return (padded ? canonical : canonical.replace(/=+$/, '')) === text ? bytes : undefined;
}

/** A Django salt: its own characters (never `$`), 1 to 128 of them. */
const DJANGO_SALT = /^[^$\s]{1,128}$/;

/** Reads a stored hash: a PHC argon2 string, or one of Django's formats. */
export function readStoredHash(encoded: string): HashReading {
  if (encoded.length > 1024) return refuse('hash longer than 1024 characters');
  if (encoded.startsWith('$argon2')) return readArgon2(encoded);
  const algorithm = encoded.split('$', 1)[0];
  switch (algorithm) {
    case 'argon2':
      return readArgon2(encoded.slice('argon2'.length));
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1':
      return readPbkdf2(encoded, algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1');
    case 'bcrypt_sha256':
    case 'bcrypt':
      return readBcrypt(encoded.slice(algorithm.length + 1), algorithm === 'bcrypt_sha256');
    case 'scrypt':
      return readScrypt(encoded);
    default:
      return refuse('not a hash format Ras verifies');
  }
}

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, the m, t and p in any order. */
function readArgon2(phc: string): HashReading {
  const parts = phc.split('$');
  if (parts.length !== 6 || parts[0] !== '') return refuse('argon2 not a PHC string of five fields');
  const [, variant, versionField, paramsField, saltField, hashField] = parts as [string, ...string[]];
  if (variant !== 'argon2id' && variant !== 'argon2i' && variant !== 'argon2d')
    return refuse(`argon2 unknown variant ${JSON.stringify(variant?.slice(0, 16))}`);
  const version = versionField === 'v=19' ? 19 : versionField === 'v=16' ? 16 : undefined;
  if (version === undefined) return refuse('argon2 version is not v=19 or v=16');
  const params = new Map<string, string>();
  for (const pair of paramsField!.split(',')) {
    const match = /^([a-z]+)=(.*)$/.exec(pair);
    if (!match) return refuse('argon2 a parameter is not name=value');
    const [, name, value] = match as unknown as [string, string, string];
    if (name !== 'm' && name !== 't' && name !== 'p')
      return refuse(`argon2 unknown parameter ${name.slice(0, 8)}`);
    if (params.has(name)) return refuse(`argon2 parameter ${name} given twice`);
    params.set(name, value);
  }
  const parallelism = canonicalInteger(params.get('p'), 1, HASH_LIMITS.argon2MaxParallelism);
  if (parallelism === undefined)
    return refuse(`argon2 parallelism missing, not canonical or over ${HASH_LIMITS.argon2MaxParallelism}`);
  const time = canonicalInteger(params.get('t'), 1, HASH_LIMITS.argon2MaxTime);
  if (time === undefined)
    return refuse(`argon2 time cost missing, not canonical or over ${HASH_LIMITS.argon2MaxTime}`);
  // argon2 itself needs at least 8 KiB per lane.
  const memoryKiB = canonicalInteger(params.get('m'), 8 * parallelism, HASH_LIMITS.maxMemoryKiB);
  if (memoryKiB === undefined)
    return refuse(
      `argon2 memory missing, not canonical, under 8 KiB a lane or over ${HASH_LIMITS.maxMemoryKiB} KiB`,
    );
  const salt = base64Bytes(saltField, false);
  if (!salt || salt.length < 8 || salt.length > 64)
    return refuse('argon2 salt is not 8 to 64 bytes of base64');
  const hash = base64Bytes(hashField, false);
  if (!hash || hash.length < 16 || hash.length > 64)
    return refuse('argon2 hash is not 16 to 64 bytes of base64');
  return {
    ok: true,
    hash: {
      kind: 'argon2',
      variant,
      version,
      memoryKiB,
      time,
      parallelism,
      salt: saltField!,
      hash: hashField!,
    },
  };
}

/** The PHC string of a read argon2 hash, written the one canonical way (what the verifier is given). */
export function argon2Phc(hash: Extract<StoredHash, { kind: 'argon2' }>): string {
  return `$${hash.variant}$v=${hash.version}$m=${hash.memoryKiB},t=${hash.time},p=${hash.parallelism}$${hash.salt}$${hash.hash}`;
}

/** `pbkdf2_sha256$<iterations>$<salt>$<base64 digest>` (the digest as long as the hash's output). */
function readPbkdf2(encoded: string, digest: 'sha256' | 'sha1'): HashReading {
  const parts = encoded.split('$');
  if (parts.length !== 4) return refuse('pbkdf2 not four fields');
  const iterations = canonicalInteger(parts[1], 1, HASH_LIMITS.pbkdf2MaxIterations);
  if (iterations === undefined)
    return refuse(`pbkdf2 iterations not canonical or over ${HASH_LIMITS.pbkdf2MaxIterations}`);
  if (!DJANGO_SALT.test(parts[2]!)) return refuse('pbkdf2 salt is not 1 to 128 characters');
  const hash = base64Bytes(parts[3], true);
  const length = digest === 'sha256' ? 32 : 20;
  if (!hash || hash.length !== length) return refuse(`pbkdf2 digest is not ${length} bytes of base64`);
  return { ok: true, hash: { kind: 'pbkdf2', digest, iterations, salt: parts[2]!, hash } };
}

/** A modular-crypt bcrypt string: `$2b$12$` and 53 characters of bcrypt's base64 (salt and digest). */
function readBcrypt(bcrypt: string, prehashed: boolean): HashReading {
  const match = /^\$2[aby]\$([0-9]{2})\$[./A-Za-z0-9]{53}$/.exec(bcrypt);
  if (!match) return refuse('bcrypt not a $2a$/$2b$/$2y$ string of 60 characters');
  const cost = Number(match[1]);
  if (cost < 4 || cost > HASH_LIMITS.bcryptMaxCost)
    return refuse(`bcrypt cost ${cost} not within 4 to ${HASH_LIMITS.bcryptMaxCost}`);
  return { ok: true, hash: { kind: 'bcrypt', prehashed, cost, bcrypt } };
}

/** `scrypt$<N>$<salt>$<r>$<p>$<base64 digest of 64 bytes>` (Django ≥ 4.0). */
function readScrypt(encoded: string): HashReading {
  const parts = encoded.split('$');
  if (parts.length !== 6) return refuse('scrypt not six fields');
  const N = canonicalInteger(parts[1], 2, 2 ** 24);
  if (N === undefined || (N & (N - 1)) !== 0) return refuse('scrypt N is not a canonical power of two');
  const r = canonicalInteger(parts[3], 1, 64);
  const p = canonicalInteger(parts[4], 1, HASH_LIMITS.scryptMaxParallelism);
  if (r === undefined || p === undefined)
    return refuse(`scrypt r or p not canonical, or p over ${HASH_LIMITS.scryptMaxParallelism}`);
  const kib = (128 * N * r) / 1024;
  if (kib > HASH_LIMITS.maxMemoryKiB)
    return refuse(`scrypt memory ${kib} KiB over ${HASH_LIMITS.maxMemoryKiB}`);
  if (!DJANGO_SALT.test(parts[2]!)) return refuse('scrypt salt is not 1 to 128 characters');
  const hash = base64Bytes(parts[5], true);
  if (!hash || hash.length !== 64) return refuse('scrypt digest is not 64 bytes of base64');
  return { ok: true, hash: { kind: 'scrypt', N, r, p, salt: parts[2]!, hash } };
}
