import { hash } from '@node-rs/argon2';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { needsRehash, PasswordHasher } from './passwords.js';

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
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let maxRunning = 0;
    const probe = setInterval(() => (maxRunning = Math.max(maxRunning, bounded.running)), 1);
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => bounded.hash(`password number ${i}`)));
    expect(bounded.queued).toBe(6);
    await all;
    clearInterval(probe);
    delay.disable();
    expect(maxRunning).toBe(2);
    expect(bounded.queued).toBe(0);
    expect(delay.max / 1e6).toBeLessThan(100);
  });
});
