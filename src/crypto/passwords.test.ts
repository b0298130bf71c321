import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { hash as hashBcrypt } from '@node-rs/bcrypt';
import { HashAbandonedError, HasherBusyError, needsRehash, PasswordHasher } from './passwords.js';
import { OccupiableHasher } from '../../test/paused-hasher.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(2);

  it('hashes with argon2id at m=19456, t=2, p=1 and verifies', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await hasher.verify(stored, 'correct horse battery staple')).matches).toBe(true);
    expect((await hasher.verify(stored, 'correct horse battery stapler')).matches).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  it('wants a rehash for older parameters or another algorithm', async () => {
    const weak = await hash('pw', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const argon2i = await hash('pw', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(argon2i)).toBe(true);
    expect((await hasher.verify(weak, 'pw')).matches).toBe(true);
  });

  it('never matches an unusable or malformed hash', async () => {
    for (const stored of ['', '!unusable', '$argon2id$garbage', 'pbkdf2_sha256$1$x$y']) {
      expect((await hasher.verify(stored, 'anything')).matches).toBe(false);
    }
  });

  it('keeps one dummy hash for unknown emails', async () => {
    expect(await hasher.dummy()).toBe(await hasher.dummy());
    expect((await hasher.verify(await hasher.dummy(), 'anything')).matches).toBe(false);
  });

  it('runs at most `concurrency` hashes at once, off the event loop', async () => {
    const bounded = new PasswordHasher(2);
    let maxRunning = 0;
    // Ticks of the event loop while hashes run: a hash computed on the loop would leave none.
    let ticksWhileRunning = 0;
    const probe = setInterval(() => {
      maxRunning = Math.max(maxRunning, bounded.running);
      if (bounded.running > 0) ticksWhileRunning++;
    }, 1);
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => bounded.hash(`password number ${i}`)));
    expect(bounded.queued).toBe(6);
    await all;
    clearInterval(probe);
    expect(maxRunning).toBe(2);
    expect(bounded.queued).toBe(0);
    expect(ticksWhileRunning).toBeGreaterThan(0);
  });
});

describe('PasswordHasher under hostile hashes and load', () => {
  const verifyTimed = async (hasher: PasswordHasher, stored: string) => {
    const started = performance.now();
    const verification = await hasher.verify(stored, 'not the password');
    return { ...verification, ms: performance.now() - started };
  };

  it('verifies bcrypt on the thread pool: four cost-12 checks leave the event loop free', async () => {
    const hasher = new PasswordHasher(2);
    const stored = `bcrypt$${await hashBcrypt('the password', 12)}`;
    expect((await hasher.verify(stored, 'the password')).matches).toBe(true);
    // The loop keeps turning while the four checks run: on the loop, each would hold it for its whole time.
    let ticksWhileRunning = 0;
    const probe = setInterval(() => {
      if (hasher.running > 0) ticksWhileRunning++;
    }, 1);
    const results = await Promise.all(Array.from({ length: 4 }, () => hasher.verify(stored, 'wrong')));
    clearInterval(probe);
    expect(results.every((r) => !r.matches)).toBe(true);
    expect(ticksWhileRunning).toBeGreaterThan(0);
  });

  it.each([
    [
      'pbkdf2 with 2,000,000,000 iterations',
      'pbkdf2_sha256$2000000000$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
      /pbkdf2 iterations/,
    ],
    [
      'bcrypt cost 31',
      'bcrypt$$2b$31$abcdefghijklmnopqrstuuVv0rHQyzqD5WxsmdXMOsVqYt6Bm8Gh2',
      /bcrypt cost 31/,
    ],
    [
      'bcrypt_sha256 cost 20',
      'bcrypt_sha256$$2b$20$abcdefghijklmnopqrstuuVv0rHQyzqD5WxsmdXMOsVqYt6Bm8Gh2',
      /bcrypt cost 20/,
    ],
    [
      'argon2 m=1 GiB (Django)',
      'argon2$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      /argon2 memory/,
    ],
    [
      'argon2 t=1000 (Ras form)',
      '$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      /argon2 time/,
    ],
    ['scrypt N=2^20 r=8 (1 GiB)', 'scrypt$1048576$salt$8$1$aGFzaA==', /scrypt memory/],
  ])(
    'refuses %s without computing it, at the cost of one ordinary argon2id check',
    async (_name, stored, reason) => {
      const hasher = new PasswordHasher(2);
      const ordinary = await verifyTimed(hasher, await hasher.dummy());
      const result = await verifyTimed(hasher, stored);
      expect(result.matches).toBe(false);
      expect(result.refusal).toMatch(reason);
      // Computed, any of these would take minutes to hours: compared with an ordinary failure of the same run.
      expect(result.ms / ordinary.ms).toBeLessThan(20);
    },
  );

  it('answers a full queue at once with HasherBusyError, and computes nothing for it', async () => {
    const hasher = new OccupiableHasher(1, 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slots = [hasher.occupy(held), hasher.occupy(held), hasher.occupy(held)];
    expect([hasher.running, hasher.queued]).toEqual([1, 2]);
    const dummy = await hasher.dummy();
    // Refused while every slot is still held: the refusal waits for nothing (no clock needed to see it).
    await expect(hasher.verify(dummy, 'password')).rejects.toBeInstanceOf(HasherBusyError);
    await expect(hasher.hash('password')).rejects.toBeInstanceOf(HasherBusyError);
    expect([hasher.running, hasher.queued]).toEqual([1, 2]);
    release();
    await Promise.all(slots);
    expect((await hasher.verify(await hasher.dummy(), 'password')).matches).toBe(false);
  });

  it('drops queued work whose client went away before computing it', async () => {
    const hasher = new OccupiableHasher(1, 10);
    let release!: () => void;
    const held = hasher.occupy(new Promise<void>((resolve) => (release = resolve)));
    const gone = new AbortController();
    const queued = hasher.hash('password of a client that left', gone.signal);
    gone.abort();
    release();
    await held;
    await expect(queued).rejects.toBeInstanceOf(HashAbandonedError);
    await expect(hasher.hash('x', gone.signal)).rejects.toBeInstanceOf(HashAbandonedError);
  });
});
