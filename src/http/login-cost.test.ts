import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { hash as hashBcrypt } from '@node-rs/bcrypt';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/database.js';
import { buildTestApp, PASSWORD, signupAccount, uniqueEmail } from '../../test/helpers.js';
import { OccupiableHasher } from '../../test/paused-hasher.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('what a login costs', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { ARGON2_CONCURRENCY: '2' });
  });
  afterAll(() => app.close());

  const login = (email: string, password: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password }, remoteAddress });

  // Timed while other test files load both cores: a transient spike can push one run out of bounds, a real
  // difference fails every try.
  it(
    'an unknown email costs the same as a wrong password (median ratio within 0.8..1.25), with the same body',
    { retry: 2 },
    async () => {
      const accounts = await Promise.all([signupAccount(app), signupAccount(app), signupAccount(app)]);
      const unknown: number[] = [];
      const wrong: number[] = [];
      const bodies = new Set<string>();
      const timed = async (email: string, password: string, address: string) => {
        const started = performance.now();
        const res = await login(email, password, address);
        expect(res.statusCode).toBe(400);
        bodies.add(res.body);
        return performance.now() - started;
      };
      // Distinct addresses and accounts keep every attempt under the throttle: only the hashing is timed.
      // Each pair runs back to back, and the ratio is the median of the pairs' ratios, so that load from the
      // test files running beside this one (CI has two cores) weighs on both sides of a pair alike.
      const ratios: number[] = [];
      // Which side goes first alternates, so neither always follows the other.
      for (let i = 0; i < 24; i++) {
        const unknownAttempt = () => timed(uniqueEmail('nobody'), PASSWORD, `198.51.100.${2 * i + 1}`);
        const wrongAttempt = () =>
          timed(accounts[i % 3]!.email, 'not the password', `198.51.100.${2 * i + 2}`);
        const [u, w] =
          i % 2 === 0
            ? [await unknownAttempt(), await wrongAttempt()]
            : [await wrongAttempt(), await unknownAttempt()].reverse();
        unknown.push(u!);
        wrong.push(w!);
        ratios.push(u! / w!);
      }
      const ratio = median(ratios);
      console.log(
        `login timing: unknown ${median(unknown).toFixed(1)} ms, wrong ${median(wrong).toFixed(1)} ms, median pair ratio ${ratio.toFixed(3)}`,
      );
      expect(ratio).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
      expect([...bodies]).toEqual(['{"status_code":400,"message":"Invalid username or password"}']);
    },
  );

  it('answers 200 concurrent wrong logins, bounds argon2 concurrency and memory, keeps the event loop turning', async () => {
    const { email } = await signupAccount(app);
    const hasher = app.accounts.passwords;
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let maxRunning = 0;
    let maxRss = process.memoryUsage().rss;
    const idleRss = maxRss;
    const probe = setInterval(() => {
      maxRunning = Math.max(maxRunning, hasher.running);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }, 2);
    delay.enable();
    const stormStarted = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2
          ? login(uniqueEmail('storm'), 'wrong password', `203.0.113.${i % 250}`)
          : login(email, 'wrong password', `192.0.2.${i % 250}`),
      ),
    );
    const stormMs = performance.now() - stormStarted;
    delay.disable();
    clearInterval(probe);
    const codes = answers.map((r) => r.statusCode);
    expect(codes.every((c) => c === 400 || c === 429)).toBe(true);
    expect(maxRunning).toBeLessThanOrEqual(2);
    const lagMs = delay.max / 1e6;
    const growthMiB = (maxRss - idleRss) / 2 ** 20;
    console.log(
      `login storm: event-loop lag max ${lagMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, RSS +${growthMiB.toFixed(1)} MiB`,
    );
    // No stall worth a tenth of the storm (200 checks, a few seconds): hashing on the loop would stall it for
    // every check's whole time, one after another.
    expect(lagMs / stormMs).toBeLessThan(0.1);
    // Two argon2 computations of 19 MiB each, plus room for 200 requests in flight and the allocator.
    expect(growthMiB).toBeLessThan(2 * 19 + 48);
  });
});

describe('what a failed login costs, whatever the stored hash', () => {
  let app: FastifyInstance;
  let raw: Database;
  let logged = '';
  beforeAll(async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ras-cost-')), 'ras.db')}`;
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    app = await buildTestApp(url, { ARGON2_CONCURRENCY: '2', LOG_LEVEL: 'info' }, { logStream });
    raw = await openDatabase(url);
  });
  afterAll(async () => {
    await app.close();
    await raw.close();
  });

  const pbkdf2 = (iterations: number) =>
    `pbkdf2_sha256$${iterations}$salt$${pbkdf2Sync('the password', 'salt', iterations, 32, 'sha256').toString('base64')}`;

  /** An account whose stored hash is `stored`, as an import would leave it. */
  async function accountWithHash(stored: string): Promise<string> {
    const { id, email } = await signupAccount(app);
    await raw.db.updateTable('users').set({ password_hash: stored }).where('id', '=', id).execute();
    return email;
  }

  /** Median time of a wrong-password login on the account, each from a fresh address (no throttle). */
  async function failedLoginMs(email: string, round: number): Promise<number> {
    const started = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: 'not the password at all' },
      remoteAddress: `10.${round}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
    });
    expect(res.json()).toEqual({ status_code: 400, message: 'Invalid username or password' });
    return performance.now() - started;
  }

  // Timed while other test files load both cores: a transient spike can push one run out of bounds, a real
  // difference fails every try.
  it(
    'never costs less than a native argon2id failure (medians, each kind against native in the same rounds)',
    // 336 failed logins, each padded to the failure floor once a foreign hash was checked.
    { retry: 2, timeout: 120_000 },
    async () => {
      const kinds: Record<string, string> = {
        'unusable (!)': '!VAtXiUsMHdV0aFVs1WaIZyzAbGMJLlQFls64jqC8',
        'unknown format': 'whirlpool$1$salt$aGFzaA==',
        'pbkdf2, 1,000 iterations': pbkdf2(1000),
        'bcrypt, cost 4': `bcrypt$${await hashBcrypt('the password', 4)}`,
        'scrypt, N=1024': 'scrypt$1024$salt$8$1$aGFzaA==',
        'pbkdf2 out of bounds': 'pbkdf2_sha256$2000000000$salt$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=',
        'argon2 out of bounds': 'argon2$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      };
      const ratios: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
      // Two blocks of 12 rounds, each with fresh accounts: no account reaches the account-wide block (20
      // failures), and each round comes from a fresh address. Back-to-back pairs, which side goes first
      // alternating, so load from the test files running beside this one weighs on both sides alike.
      for (let block = 0; block < 2; block++) {
        const accounts = await Promise.all(
          Object.entries(kinds).map(
            async ([kind, stored]) =>
              [
                kind,
                { native: (await signupAccount(app)).email, other: await accountWithHash(stored) },
              ] as const,
          ),
        );
        for (let round = 12 * block; round < 12 * (block + 1); round++) {
          for (const [kind, { native, other }] of accounts) {
            const nativeMs = () => failedLoginMs(native, round);
            const otherMs = () => failedLoginMs(other, round);
            const [n, o] =
              round % 2 === 0
                ? [await nativeMs(), await otherMs()]
                : [await otherMs(), await nativeMs()].reverse();
            ratios[kind]!.push(o! / n!);
          }
        }
      }
      const medians = Object.fromEntries(Object.entries(ratios).map(([k, r]) => [k, median(r)]));
      console.log('failed login cost / native argon2id failure:', JSON.stringify(medians));
      for (const [kind, ratio] of Object.entries(medians)) expect(ratio, kind).toBeGreaterThan(0.8);
      // Those that compute nothing but the dummy cost what a native failure costs.
      for (const kind of ['unusable (!)', 'unknown format', 'pbkdf2 out of bounds', 'argon2 out of bounds'])
        expect(medians[kind], kind).toBeLessThan(1.25);
    },
  );

  it('logs a hash refused for its parameters as a security event', () => {
    const events = logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { event?: string; detail?: string });
    expect(events.some((e) => e.event === 'login.failure' && /pbkdf2 iterations/.test(e.detail ?? ''))).toBe(
      true,
    );
    expect(events.some((e) => e.event === 'login.failure' && /argon2 memory/.test(e.detail ?? ''))).toBe(
      true,
    );
  });
});

describe('a full hash queue', () => {
  it('answers 503 at once in the envelope with Retry-After, and login works again when it drains', async () => {
    const hasher = new OccupiableHasher(1, 2);
    const app = await buildTestApp('sqlite::memory:', {}, { passwords: hasher });
    try {
      const { email } = await signupAccount(app);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const slots = [hasher.occupy(held), hasher.occupy(held), hasher.occupy(held)];
      // Answered while every slot is still held: a login that waited for one would never be answered here.
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: PASSWORD },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({
        status_code: 503,
        message: 'too many password checks in progress, please try again in a second',
      });
      release();
      await Promise.all(slots);
      const again = await app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: PASSWORD },
        remoteAddress: '192.0.2.77',
      });
      expect(again.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
