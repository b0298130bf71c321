/**
 * Enumeration by time (issue 21): `/password/reset/` and `/email/` must not tell, by their own time or by the
 * time of the request right after them, whether an address has an account. Known and unknown addresses are
 * interleaved pair by pair (order drawn at random within each pair, so a slow spell of the machine falls on
 * both), and the test fails when one threshold on either time tells them apart better than 65% of the time.
 *
 * With 150 of each, two samples of one distribution reach 65% (a Kolmogorov–Smirnov distance of 0.3) with a
 * probability of about 2·e^(−2·0.09·75) ≈ 3·10⁻⁶: a failure here is a difference, not luck.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  authHeader,
  buildTestApp,
  databaseOfItsOwn,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  type TestAccount,
  uniqueEmail,
} from '../../test/helpers.js';
import { mailEnv, startMailServer } from '../../test/mail-server.js';
import { bestThresholdAccuracy } from '../../test/timing.js';

const PAIRS = 150;
const HOUR = 60 * 60 * 1000;

describeEachDatabase('no enumeration by time', (database) => {
  let mail: Awaited<ReturnType<typeof startMailServer>>;
  let app: FastifyInstance;
  let clock = Date.now();
  let account: TestAccount;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    mail = await startMailServer();
    const own = await databaseOfItsOwn(database);
    drop = own.drop;
    app = await buildTestApp(
      own.url,
      mailEnv(mail.url),
      // The hourly limits are moved past between pairs, so every request does its full work.
      { now: () => clock },
    );
    account = await signupAccount(app);
  });
  afterAll(async () => {
    await app.close();
    await mail.close();
    await drop();
  });

  const nextRequest = () =>
    app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(account.token) });

  /** The time of `send`'s answer and of the authenticated read right after it, in ms. */
  async function timed(send: () => Promise<{ statusCode: number }>): Promise<[number, number]> {
    const started = performance.now();
    expect((await send()).statusCode).toBe(200);
    const answered = performance.now();
    expect((await nextRequest()).statusCode).toBe(200);
    return [answered - started, performance.now() - answered];
  }

  async function compare(send: (known: boolean) => Promise<{ statusCode: number }>) {
    const known: [number, number][] = [];
    const unknown: [number, number][] = [];
    for (let i = 0; i < PAIRS; i++) {
      clock += HOUR;
      const knownFirst = Math.random() < 0.5;
      for (const isKnown of knownFirst ? [true, false] : [false, true])
        (isKnown ? known : unknown).push(await timed(() => send(isKnown)));
    }
    return {
      answer: bestThresholdAccuracy(
        known.map(([answer]) => answer),
        unknown.map(([answer]) => answer),
      ),
      next: bestThresholdAccuracy(
        known.map(([, next]) => next),
        unknown.map(([, next]) => next),
      ),
    };
  }

  it('/password/reset/: a real account and an unknown address take the same time, and so does the next request', async () => {
    const real = await signupAccount(app);
    const accuracy = await compare((known) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/users/password/reset/',
        payload: { email: known ? real.email : uniqueEmail('nobody') },
      }),
    );
    console.log(`[${database.name}] reset: threshold accuracy`, accuracy);
    expect(accuracy.answer).toBeLessThan(0.65);
    expect(accuracy.next).toBeLessThan(0.65);
  }, 120_000);

  it('/email/: a taken and a free address take the same time, and so does the next request', async () => {
    const taken = await signupAccount(app);
    const accuracy = await compare((known) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/users/${account.id}/email/`,
        headers: authHeader(account.token),
        payload: { password: PASSWORD, new_email: known ? taken.email : uniqueEmail('free') },
      }),
    );
    console.log(`[${database.name}] email change: threshold accuracy`, accuracy);
    expect(accuracy.answer).toBeLessThan(0.65);
    expect(accuracy.next).toBeLessThan(0.65);
  }, 120_000);
});
