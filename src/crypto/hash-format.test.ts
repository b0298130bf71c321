import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argon2Phc, readStoredHash, type StoredHash } from './hash-format.js';
import { HASH_LIMITS } from './hash-limits.js';
import { PasswordHasher } from './passwords.js';

const b64 = (bytes: Uint8Array, padded: boolean) => {
  const text = Buffer.from(bytes).toString('base64');
  return padded ? text : text.replace(/=+$/, '');
};

/** A valid argon2 hash, its m, t, p written in the order given. */
const argon2Hash = fc
  .record({
    variant: fc.constantFrom('argon2id', 'argon2i', 'argon2d'),
    version: fc.constantFrom(16, 19),
    p: fc.integer({ min: 1, max: HASH_LIMITS.argon2MaxParallelism }),
    t: fc.integer({ min: 1, max: HASH_LIMITS.argon2MaxTime }),
    mOver: fc.integer({ min: 0, max: HASH_LIMITS.maxMemoryKiB }),
    salt: fc.uint8Array({ minLength: 8, maxLength: 64 }),
    hash: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    order: fc.shuffledSubarray(['m', 't', 'p'], { minLength: 3, maxLength: 3 }),
    django: fc.boolean(),
  })
  .map((h) => {
    const m = Math.min(HASH_LIMITS.maxMemoryKiB, 8 * h.p + h.mOver);
    const values: Record<string, number> = { m, t: h.t, p: h.p };
    const params = h.order.map((k) => `${k}=${values[k]}`);
    return { ...h, m, params, salt: b64(h.salt, false), hash: b64(h.hash, false) };
  });

const encode = (h: { variant: string; version: number; params: string[]; salt: string; hash: string }) =>
  `$${h.variant}$v=${h.version}$${h.params.join(',')}$${h.salt}$${h.hash}`;

/** Every reading that succeeds is within the bounds: nothing beyond them can reach a verifier. */
function withinBounds(hash: StoredHash): boolean {
  switch (hash.kind) {
    case 'argon2':
      return (
        hash.memoryKiB <= HASH_LIMITS.maxMemoryKiB &&
        hash.memoryKiB >= 8 * hash.parallelism &&
        hash.time >= 1 &&
        hash.time <= HASH_LIMITS.argon2MaxTime &&
        hash.parallelism <= HASH_LIMITS.argon2MaxParallelism &&
        Buffer.from(hash.salt, 'base64').length <= 64 &&
        Buffer.from(hash.hash, 'base64').length <= 64
      );
    case 'pbkdf2':
      return (
        hash.iterations >= 1 && hash.iterations <= HASH_LIMITS.pbkdf2MaxIterations && hash.salt.length <= 128
      );
    case 'bcrypt':
      return hash.cost >= 4 && hash.cost <= HASH_LIMITS.bcryptMaxCost;
    case 'scrypt':
      return (
        (128 * hash.N * hash.r) / 1024 <= HASH_LIMITS.maxMemoryKiB &&
        hash.p <= HASH_LIMITS.scryptMaxParallelism
      );
  }
}

describe('readStoredHash', () => {
  it('reads every valid argon2 hash to the same parameters, in any order, Ras form or Django form', () => {
    fc.assert(
      fc.property(argon2Hash, (h) => {
        const encoded = encode(h);
        const reading = readStoredHash(h.django ? `argon2${encoded}` : encoded);
        expect(reading).toEqual({
          ok: true,
          hash: {
            kind: 'argon2',
            variant: h.variant,
            version: h.version,
            memoryKiB: h.m,
            time: h.t,
            parallelism: h.p,
            salt: h.salt,
            hash: h.hash,
          },
        });
        if (reading.ok && reading.hash.kind === 'argon2')
          expect(argon2Phc(reading.hash)).toBe(
            encode({ ...h, params: [`m=${h.m}`, `t=${h.t}`, `p=${h.p}`] }),
          );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses or bounds every mutation of an argon2 hash, and never throws', () => {
    const mutation = fc.oneof(
      // a parameter twice
      fc
        .constantFrom('m', 't', 'p')
        .map((k) => (params: string[]) => [...params, params.find((p) => p.startsWith(k))!]),
      // a parameter missing
      fc.integer({ min: 0, max: 2 }).map((i) => (params: string[]) => params.filter((_, j) => j !== i)),
      // a leading zero, or a sign
      fc
        .constantFrom('0', '+', '-')
        .map(
          (prefix) => (params: string[]) =>
            params.map((p, i) => (i === 0 ? p.replace('=', `=${prefix}`) : p)),
        ),
      // a huge number
      fc
        .bigInt({ min: 2n ** 31n, max: 10n ** 30n })
        .map((n) => (params: string[]) => params.map((p, i) => (i === 0 ? p.replace(/=.*/, `=${n}`) : p))),
      // an unknown field
      fc
        .constantFrom('keyid=abc', 'data=xyz', 'x=1', 'M=19456')
        .map((f) => (params: string[]) => [...params, f]),
    );
    fc.assert(
      fc.property(argon2Hash, mutation, fc.boolean(), (h, mutate, longSalt) => {
        const salt = longSalt ? b64(new Uint8Array(65 + (h.salt.length % 300)), false) : h.salt;
        const reading = readStoredHash(encode({ ...h, params: mutate(h.params), salt }));
        if (reading.ok) expect(withinBounds(reading.hash)).toBe(true);
        else expect(reading.reason).toMatch(/^argon2 /);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any string, and whatever it reads is within bounds', () => {
    const hashLike = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .tuple(
          fc.constantFrom('pbkdf2_sha256', 'pbkdf2_sha1', 'bcrypt', 'bcrypt_sha256', 'scrypt', 'argon2', ''),
          fc.array(fc.oneof(fc.stringMatching(/^[0-9]{1,25}$/), fc.string({ maxLength: 100 })), {
            maxLength: 7,
          }),
        )
        .map(([algorithm, fields]) => [algorithm, ...fields].join('$')),
    );
    fc.assert(
      fc.property(hashLike, (encoded) => {
        const reading = readStoredHash(encoded);
        if (reading.ok) expect(withinBounds(reading.hash)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads Django pbkdf2, bcrypt and scrypt hashes within bounds, and refuses each just beyond them', () => {
    const digest32 = b64(new Uint8Array(32), true);
    const digest64 = b64(new Uint8Array(64), true);
    const bcrypt = '$2b$12$' + 'a'.repeat(53);
    expect(readStoredHash(`pbkdf2_sha256$1000000$salt$${digest32}`).ok).toBe(true);
    expect(readStoredHash(`pbkdf2_sha1$1000000$salt$${b64(new Uint8Array(20), true)}`).ok).toBe(true);
    expect(readStoredHash(`bcrypt$${bcrypt}`).ok).toBe(true);
    expect(readStoredHash(`bcrypt_sha256$${bcrypt}`).ok).toBe(true);
    expect(readStoredHash(`scrypt$16384$salt$8$1$${digest64}`).ok).toBe(true);
    for (const [encoded, reason] of [
      [`pbkdf2_sha256$5000001$salt$${digest32}`, /pbkdf2 iterations/],
      [`pbkdf2_sha256$01000$salt$${digest32}`, /pbkdf2 iterations/],
      [`pbkdf2_sha256$1000$salt$${digest32}AAAA`, /pbkdf2 digest/],
      [`pbkdf2_sha256$1000$${'s'.repeat(129)}$${digest32}`, /pbkdf2 salt/],
      [`bcrypt$$2b$17$${'a'.repeat(53)}`, /bcrypt cost 17/],
      [`scrypt$1048576$salt$8$1$${digest64}`, /scrypt memory/],
      [`scrypt$16383$salt$8$1$${digest64}`, /power of two/],
      ['$argon2id$v=19$t=3,m=1048576,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /argon2 memory/],
      ['$argon2id$m=1048576,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /argon2 not a PHC string/],
      ['$argon2id$v=19$m=19456,t=2,p=1,m=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', /given twice/],
    ] as const)
      expect(readStoredHash(encoded)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('answers a login against the reordered 1 GiB argon2 hash as a wrong password, without computing it', async () => {
    const hasher = new PasswordHasher(1, 4);
    const verification = await hasher.verify(
      '$argon2id$v=19$t=3,m=1048576,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      'any password',
    );
    expect(verification).toEqual({ matches: false, refusal: expect.stringMatching(/argon2 memory/) });
  });
});
