import type { FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, PASSWORD, signupAccount, uniqueEmail } from '../../test/helpers.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('what a login costs', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp('sqlite::memory:', { ARGON2_CONCURRENCY: '2' });
  });
  afterAll(() => app.close());

  const login = (email: string, password: string, remoteAddress: string) =>
    app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password }, remoteAddress });

  it('an unknown email costs the same as a wrong password (median ratio within 0.8..1.25), with the same body', async () => {
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
      const wrongAttempt = () => timed(accounts[i % 3]!.email, 'not the password', `198.51.100.${2 * i + 2}`);
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
  });

  it('answers 200 concurrent wrong logins, bounds argon2 concurrency and memory, keeps event-loop lag under 100 ms', async () => {
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
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2
          ? login(uniqueEmail('storm'), 'wrong password', `203.0.113.${i % 250}`)
          : login(email, 'wrong password', `192.0.2.${i % 250}`),
      ),
    );
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
    expect(lagMs).toBeLessThan(100);
    // Two argon2 computations of 19 MiB each, plus room for 200 requests in flight and the allocator.
    expect(growthMiB).toBeLessThan(2 * 19 + 48);
  });
});
