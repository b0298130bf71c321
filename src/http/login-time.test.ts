/**
 * Login time tells nothing about the account (issue 22): a wrong password on a native account, on one
 * imported with a slow hash (pbkdf2_sha256 at 60,000 iterations here: with the dummy check after it, over twice a native failure), on an
 * account with an unusable password, and an unknown email, interleaved; the test fails when one threshold
 * tells any two of them apart better than 65% of the time (test/timing.ts says why that is not luck).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureForeignHashes } from '../accounts/login-time.js';
import { buildTestApp, PASSWORD, signupAccount, uniqueEmail } from '../../test/helpers.js';
import { bestThresholdAccuracy } from '../../test/timing.js';

const PER_KIND = 120;
const ACCOUNTS_PER_KIND = 10; // 12 failures each: under the account-wide throttle's 20

type Kind = 'native' | 'imported slow' | 'unusable' | 'unknown';

describe('the time of a wrong password', () => {
  let app: FastifyInstance;
  const emails: Record<Exclude<Kind, 'unknown'>, string[]> = {
    native: [],
    'imported slow': [],
    unusable: [],
  };
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { TRUST_PROXY: 'true' });
    const salt = randomBytes(8).toString('hex');
    const slow = `pbkdf2_sha256$60000$${salt}$${pbkdf2Sync(PASSWORD, salt, 60_000, 32, 'sha256').toString('base64')}`;
    for (let i = 0; i < ACCOUNTS_PER_KIND; i++) {
      emails.native.push((await signupAccount(app)).email);
      for (const [kind, passwordHash] of [
        ['imported slow', slow],
        ['unusable', '!unusable'],
      ] as const) {
        const email = uniqueEmail(kind.replace(' ', '-'));
        await app.accounts.store.users.insertUser({ email, passwordHash, dateJoined: Date.now() });
        emails[kind].push(email);
      }
    }
    // What a server does at start and every hour: measure the slowest kind of hash the database holds.
    expect(await measureForeignHashes(app.accounts)).toBe(1);
  }, 60_000);
  afterAll(() => app.close());

  it('is the same for native, imported-slow and unusable accounts and unknown emails', async () => {
    const times: Record<Kind, number[]> = { native: [], 'imported slow': [], unusable: [], unknown: [] };
    const kinds = Object.keys(times) as Kind[];
    for (let round = 0; round < PER_KIND; round++) {
      // Each round tries every kind once, in a random order: a slow spell of the machine falls on all.
      for (const kind of [...kinds].sort(() => Math.random() - 0.5)) {
        const email = kind === 'unknown' ? uniqueEmail('nobody') : emails[kind][round % ACCOUNTS_PER_KIND]!;
        const started = performance.now();
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email, password: 'not the password' },
          headers: { 'x-forwarded-for': `198.51.100.${round % 250}` },
        });
        times[kind].push(performance.now() - started);
        expect(res.statusCode).toBe(400);
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!.toFixed(1);
    console.log('median ms', Object.fromEntries(kinds.map((k) => [k, median(times[k])])));
    for (const [i, a] of kinds.entries())
      for (const b of kinds.slice(i + 1))
        expect(bestThresholdAccuracy(times[a], times[b]), `${a} vs ${b}`).toBeLessThan(0.65);
  }, 180_000);

  it('still logs in to the imported account with its password, and upgrades its hash', async () => {
    const email = emails['imported slow'][0]!;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    expect((await app.accounts.store.users.findUserByEmail(email))!.passwordHash).toMatch(/^\$argon2id\$/);
  });
});
