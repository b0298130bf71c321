import { hash } from '@node-rs/argon2';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('hash with argon2id at m=19456, t=2, p=1 and verify', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(stored, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse battery stapler')).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  it('want a rehash for older parameters or another algorithm', async () => {
    const weak = await hash('pw', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const argon2i = await hash('pw', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(argon2i)).toBe(true);
    expect(await verifyPassword(weak, 'pw')).toBe(true);
  });

  it('never match an unusable or malformed hash', async () => {
    for (const stored of ['', '!unusable', '$argon2id$garbage', 'pbkdf2_sha256$1$x$y']) {
      expect(await verifyPassword(stored, 'anything')).toBe(false);
    }
  });

  it('keep a dummy hash for unknown emails, made once', async () => {
    expect(await dummyPasswordHash()).toBe(await dummyPasswordHash());
    expect(await verifyPassword(await dummyPasswordHash(), 'anything')).toBe(false);
  });

  it('hash off the event loop: eight concurrent hashes leave it responsive', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    await Promise.all(Array.from({ length: 8 }, (_, i) => hashPassword(`password number ${i}`)));
    delay.disable();
    expect(delay.max / 1e6).toBeLessThan(100);
  });
});
