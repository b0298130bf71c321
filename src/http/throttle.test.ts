import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildTestApp,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  type TestDatabase,
} from '../../test/helpers.js';

const WRONG = 'definitely not it';

/** The login throttle on each backend it can count in: the database itself, or Redis beside it. */
function describeEachThrottleBackend(
  title: string,
  suite: (db: TestDatabase, env: Record<string, string>) => void,
): void {
  describeEachDatabase(title, (db) => suite(db, {}));
  const redisUrl = inject('redisUrl');
  if (redisUrl)
    describe(`${title} [sqlite + redis]`, () =>
      suite({ name: 'sqlite', url: () => 'sqlite::memory:' }, { REDIS_URL: redisUrl }));
  else describe.skip(`${title} [redis: NOT REACHABLE, SKIPPED]`, () => undefined);
}

describeEachThrottleBackend('login throttling', (database, env) => {
  let clock = Date.now();
  let app: FastifyInstance;
  let proxied: FastifyInstance;
  let secondInstance: FastifyInstance;
  beforeAll(async () => {
    const url = database.url();
    app = await buildTestApp(url, env, { now: () => clock });
    proxied = await buildTestApp(url, { ...env, TRUST_PROXY: 'true' }, { now: () => clock });
    // SQLite :memory: is private to one connection; the cross-instance case needs a shared database.
    secondInstance = url === 'sqlite::memory:' ? proxied : await buildTestApp(url, env, { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
    await proxied.close();
    if (secondInstance !== proxied) await secondInstance.close();
  });

  const login = (email: string, password: string, instance = app, headers: Record<string, string> = {}) =>
    instance.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password }, headers });

  it('refuses the 6th rapid attempt from one address with 429 and Retry-After, even with the right password', async () => {
    const { email } = await signupAccount(app);
    for (let i = 0; i < 5; i++) expect((await login(email, WRONG)).statusCode).toBe(400);
    const refused = await login(email, PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      status_code: 429,
      message: 'too many failed attempts, please try again later',
    });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('backs off further with each failure, and a success after waiting resets the counter', async () => {
    const { email } = await signupAccount(app);
    const retryAfters: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await login(email, WRONG);
      if (res.statusCode === 429) {
        retryAfters.push(Number(res.headers['retry-after']));
        clock += Number(res.headers['retry-after']) * 1000;
        expect((await login(email, WRONG)).statusCode).toBe(400);
      }
    }
    expect(retryAfters.length).toBeGreaterThanOrEqual(2);
    expect(retryAfters).toEqual([...retryAfters].sort((a, b) => a - b));
    expect(retryAfters.at(-1)).toBeGreaterThan(retryAfters[0]!);
    const blocked = await login(email, PASSWORD);
    clock += Number(blocked.headers['retry-after'] ?? 0) * 1000;
    expect((await login(email, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(email, WRONG)).statusCode).toBe(400);
  });

  it('counts across instances sharing the store', async () => {
    const { email } = await signupAccount(app);
    for (let i = 0; i < 5; i++) await login(email, WRONG, i % 2 ? app : secondInstance);
    expect((await login(email, PASSWORD, secondInstance)).statusCode).toBe(429);
    expect((await login(email, PASSWORD, app)).statusCode).toBe(429);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const { email } = await signupAccount(app);
    for (let i = 0; i < 5; i++) await login(email, WRONG, app, { 'x-forwarded-for': `203.0.113.${i}` });
    expect((await login(email, PASSWORD, app, { 'x-forwarded-for': '198.51.100.7' })).statusCode).toBe(429);
  });

  it('throttles the account from all addresses well before 100 failures, but not an address the owner logged in from', async () => {
    const { email } = await signupAccount(proxied);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await login(email, PASSWORD, proxied, from('192.0.2.1'))).statusCode).toBe(200);
    for (let i = 0; i < 20; i++) {
      expect((await login(email, WRONG, proxied, from(`203.0.113.${i}`))).statusCode).toBe(400);
    }
    const fresh = await login(email, PASSWORD, proxied, from('198.51.100.99'));
    expect(fresh.statusCode).toBe(429);
    expect((await login(email, PASSWORD, proxied, from('192.0.2.1'))).statusCode).toBe(200);
  });

  it('throttles unknown emails the same way, so a 429 reveals nothing', async () => {
    const email = `nobody-${Date.now()}@example.com`;
    for (let i = 0; i < 5; i++) expect((await login(email, WRONG)).statusCode).toBe(400);
    expect((await login(email, WRONG)).statusCode).toBe(429);
  });

  it('counts a wrong current password on a password change as a failed login', async () => {
    const account = await signupAccount(app);
    const change = () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/users/${account.id}/password/`,
        headers: { authorization: `Token ${account.token}` },
        payload: { current_password: WRONG, new_password: 'a brand new passphrase' },
      });
    for (let i = 0; i < 5; i++) expect((await change()).statusCode).toBe(400);
    expect((await change()).statusCode).toBe(429);
    expect((await login(account.email, PASSWORD)).statusCode).toBe(429);
  });
});

describeEachThrottleBackend('what an attacker gets per quarter hour', (database, env) => {
  let clock = Date.now();
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(database.url(), { ...env, TRUST_PROXY: 'true' }, { now: () => clock });
  });
  afterAll(() => app.close());

  /**
   * Fires `burst` simultaneous wrong guesses (from `addresses()`), waits exactly as long as the longest
   * Retry-After says, and repeats for 15 minutes of the app's clock. Returns the guesses that were checked.
   */
  async function attack(email: string, burst: number, addresses: () => string): Promise<number> {
    const end = clock + 15 * 60_000;
    let checked = 0;
    while (clock < end) {
      const answers = await Promise.all(
        Array.from({ length: burst }, () =>
          app.inject({
            method: 'POST',
            url: '/api/v1/users/login/',
            payload: { email, password: WRONG },
            headers: { 'x-forwarded-for': addresses() },
          }),
        ),
      );
      checked += answers.filter((r) => r.statusCode === 400).length;
      const wait = Math.max(1, ...answers.map((r) => Number(r.headers['retry-after'] ?? 0)));
      clock += wait * 1000;
    }
    return checked;
  }

  it('from one address: at most 15 checked guesses on an account, bursts of 10 simultaneous or not', async () => {
    const { email } = await signupAccount(app);
    const checked = await attack(email, 10, () => '203.0.113.50');
    console.log(
      `[${database.name}${env.REDIS_URL ? ' + redis' : ''}] one address, bursts of 10: ${checked} checked guesses per 15 minutes`,
    );
    expect(checked).toBeLessThanOrEqual(15);
  });

  it('from a fresh address for every guess: at most 40 checked guesses on one account', async () => {
    const { email } = await signupAccount(app);
    let n = 0;
    const checked = await attack(email, 10, () => `198.18.${Math.floor(n / 250)}.${n++ % 250}`);
    console.log(
      `[${database.name}${env.REDIS_URL ? ' + redis' : ''}] fresh addresses, bursts of 10: ${checked} checked guesses per 15 minutes`,
    );
    expect(checked).toBeLessThanOrEqual(40);
  });
});
