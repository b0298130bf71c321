import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../accounts/events.js';
import { SecretBox } from '../crypto/secret-box.js';
import {
  buildTestApp,
  databaseOfItsOwn,
  describeEachDatabase,
  loginAccount,
  OPERATOR,
  PASSWORD,
  signupAccount,
  type TestDatabase,
  TEST_MFA_KEY,
} from '../../test/helpers.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../test/webhook-receiver.js';
import { DISABLE_AFTER_MS, PER_ENDPOINT, RETRY_SCHEDULE_MS } from './deliverer.js';
import { addWebhook } from './endpoints.js';

const TEST_KEY = TEST_MFA_KEY;
const HOUR = 3_600_000;

/** Subscribes `receiver` to `events` on the app's database; returns the endpoint id. */
async function subscribe(app: FastifyInstance, receiver: WebhookReceiver, events: string[] = []) {
  const { endpoint, secret } = await addWebhook(
    app.accounts.store,
    app.accounts.secrets,
    { url: receiver.url, events },
    { allowPrivate: true, now: app.accounts.now() },
  );
  receiver.useSecret(secret);
  return endpoint.id;
}

/** `count` events of no account, each in its own transaction (as changes write them). */
async function writeEvents(app: FastifyInstance, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await app.accounts.store.transaction((tx) =>
      recordEvent(app.accounts, tx, 'session.revoked', { userId: null, client: OPERATOR, data: { n: i } }),
    );
}

describeEachDatabase('webhooks', (database: TestDatabase) => {
  let app: FastifyInstance;
  let url: string;
  let drop: () => Promise<void>;
  const receivers: WebhookReceiver[] = [];
  const receiver = async (options?: Parameters<typeof startWebhookReceiver>[0]) => {
    const started = await startWebhookReceiver(options);
    receivers.push(started);
    return started;
  };
  beforeAll(async () => {
    ({ url, drop } = await databaseOfItsOwn(database));
    app = await buildTestApp(url, { MFA_KEY: TEST_KEY, WEBHOOK_ALLOW_PRIVATE: 'on' });
  });
  afterEach(async () => {
    // Each test's endpoints go with it (and their queued deliveries, by cascade).
    for (const endpoint of await app.accounts.store.webhooks.listEndpoints())
      await app.accounts.store.webhooks.removeEndpoint(endpoint.id);
    for (const started of receivers.splice(0)) await started.close();
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  it('delivers every event once, signed in the Standard Webhooks format, with the event id as webhook-id', async () => {
    const hooks = await receiver();
    await subscribe(app, hooks);
    const account = await signupAccount(app);
    const token = await loginAccount(app, account.email);
    await app.inject({
      method: 'POST',
      url: `/api/v1/users/${account.id}/logout/`,
      headers: { authorization: `Token ${token}` },
    });
    await hooks.until(() => hooks.received.length >= 3);
    await app.webhookDeliverer!.idle();
    const events = await app.accounts.store.events.list({ userId: account.id, limit: 10 });
    expect(hooks.rejected).toEqual([]);
    expect(hooks.received.map((r) => r.type)).toEqual([
      'user.created',
      'user.login.succeeded',
      'user.logout',
    ]);
    expect(hooks.received.map((r) => r.id)).toEqual(events.map((e) => e.uid));
    expect(hooks.attempts).toHaveLength(3);
    for (const delivered of hooks.received) {
      expect(delivered.event.id).toBe(delivered.id);
      expect(delivered.event.user_id).toBe(account.id);
      expect(delivered.body).not.toContain(PASSWORD);
      expect(delivered.body).not.toContain(token);
    }
  });

  it('sends an endpoint only the events its patterns select', async () => {
    const logins = await receiver();
    const deletions = await receiver();
    await subscribe(app, logins, ['user.login.*']);
    await subscribe(app, deletions, ['user.deleted']);
    const account = await signupAccount(app);
    await loginAccount(app, account.email);
    await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: account.email, password: 'not it at all' },
    });
    await logins.until(() => logins.received.length >= 2);
    await app.webhookDeliverer!.idle();
    expect(logins.received.map((r) => r.type)).toEqual(['user.login.succeeded', 'user.login.failed']);
    expect(deletions.attempts).toEqual([]);
  });

  it('keeps a healthy endpoint flowing while another hangs', async () => {
    const hanging = await receiver({ answer: () => 'hang' });
    const healthy = await receiver();
    await subscribe(app, hanging);
    await subscribe(app, healthy);
    await writeEvents(app, 12);
    await healthy.until(() => healthy.received.length >= 12);
    // The hanging lane's last request may still be on its way when the healthy endpoint has everything.
    await hanging.until(() => hanging.held.size >= PER_ENDPOINT);
    // Every event reached the healthy endpoint while the hanging one still holds its first requests open:
    // none of them has ended (not even by the 10 s timeout), and it holds no more than its own lane.
    expect(hanging.held.size).toBe(PER_ENDPOINT);
    expect(hanging.attempts).toHaveLength(PER_ENDPOINT);
    expect(new Set(healthy.received.map((r) => r.id)).size).toBe(12);
  });

  it('stores the signing secret sealed, readable only with MFA_KEY', async () => {
    const hooks = await receiver();
    const { secret } = await addWebhook(
      app.accounts.store,
      app.accounts.secrets,
      { url: hooks.url, events: [] },
      { allowPrivate: true, now: Date.now() },
    );
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(JSON.stringify(await app.accounts.store.webhooks.listEndpoints())).not.toContain(secret.slice(6));
    const sealed = (await (await import('../store/database.js')).openDatabase(url)).db;
    try {
      const [raw] = await sealed.selectFrom('webhook_endpoints').select('secret_sealed').execute();
      expect(raw!.secret_sealed).not.toContain(secret.slice(6));
      expect(new SecretBox(Buffer.from(TEST_KEY, 'base64')).open(raw!.secret_sealed, 'webhook')).toBe(secret);
      expect(() => new SecretBox(Buffer.alloc(32, 8)).open(raw!.secret_sealed, 'webhook')).toThrow(/MFA_KEY/);
      expect(() => new SecretBox(Buffer.from(TEST_KEY, 'base64')).open(raw!.secret_sealed, 'totp')).toThrow(
        /tampered|purpose/,
      );
    } finally {
      await sealed.destroy();
    }
  });

  // Several instances share PostgreSQL (SQLite is one instance's; two apps on one file in one process would
  // block each other's event loop in SQLite's busy wait).
  if (database.name === 'postgres')
    it('has two instances on one PostgreSQL deliver each of 200 events once', async () => {
      const hooks = await receiver();
      await subscribe(app, hooks);
      const second = await buildTestApp(url, { MFA_KEY: TEST_KEY, WEBHOOK_ALLOW_PRIVATE: 'on' });
      try {
        for (let i = 0; i < 100; i++) {
          await writeEvents(app, 1);
          await writeEvents(second, 1);
        }
        await hooks.until(() => hooks.received.length >= 200);
        await Promise.all([app.webhookDeliverer!.idle(), second.webhookDeliverer!.idle()]);
        expect(new Set(hooks.received.map((r) => r.id)).size).toBe(200);
        expect(hooks.attempts).toHaveLength(200);
        expect(app.webhookDeliverer!.sent + second.webhookDeliverer!.sent).toBeGreaterThanOrEqual(200);
      } finally {
        await second.close();
      }
    });
});

describeEachDatabase('webhook retries (clock injected)', (database) => {
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  let clock = Date.now();
  let hooks: WebhookReceiver;
  beforeAll(async () => {
    const own = await databaseOfItsOwn(database);
    drop = own.drop;
    app = await buildTestApp(
      own.url,
      { MFA_KEY: TEST_KEY, WEBHOOK_ALLOW_PRIVATE: 'on' },
      { now: () => clock, webhookPollMs: 3_600_000 },
    );
  });
  afterEach(() => hooks.close());
  afterAll(async () => {
    await app.close();
    await drop();
  });

  /** Lets the deliverer make its next attempt and waits until it has booked the outcome. */
  async function nextAttempt(count: number): Promise<void> {
    app.webhookDeliverer!.wake();
    await hooks.until(() => hooks.attempts.length >= count);
    await app.webhookDeliverer!.idle();
  }

  it('retries a failing receiver with the same webhook-id, then delivers', async () => {
    hooks = await startWebhookReceiver({ answer: (attempt) => (attempt <= 3 ? 500 : 204) });
    const endpointId = await subscribe(app, hooks);
    await writeEvents(app, 1);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await nextAttempt(attempt);
      // Not due again before the backoff: a round now sends nothing.
      app.webhookDeliverer!.wake();
      await app.webhookDeliverer!.idle();
      expect(hooks.attempts).toHaveLength(attempt);
      clock += 11 * HOUR;
    }
    await nextAttempt(4);
    expect(new Set(hooks.attempts)).toHaveProperty('size', 1);
    expect(hooks.received).toHaveLength(1);
    expect(hooks.received[0]!.id).toBe(hooks.attempts[0]);
    const [endpoint] = await app.accounts.store.webhooks.listEndpoints();
    expect(endpoint).toMatchObject({ id: endpointId, failingSince: null, disabledAt: null });
    await app.accounts.store.webhooks.removeEndpoint(endpointId);
  });

  it('gives a delivery up after its schedule (about 27 hours)', async () => {
    hooks = await startWebhookReceiver({ answer: () => 503 });
    const endpointId = await subscribe(app, hooks);
    await writeEvents(app, 1);
    for (const [retry, delay] of RETRY_SCHEDULE_MS.entries()) {
      await nextAttempt(retry + 1);
      clock += delay * 1.2 + 1000; // past the longest jitter
    }
    await nextAttempt(RETRY_SCHEDULE_MS.length + 1);
    // The first attempt and one per step of the schedule, all with the same id; then it is given up.
    expect(hooks.attempts).toHaveLength(8);
    expect(new Set(hooks.attempts).size).toBe(1);
    expect(app.webhookDeliverer!.failed).toBe(1);
    clock += 24 * HOUR;
    await nextAttempt(8);
    expect(hooks.attempts).toHaveLength(8);
    await app.accounts.store.webhooks.removeEndpoint(endpointId);
  });

  it('disables an endpoint failing for 3 days, sends it nothing more, and resumes once enabled', async () => {
    hooks = await startWebhookReceiver({ answer: () => 503 });
    const endpointId = await subscribe(app, hooks);
    const failingFrom = clock;
    await writeEvents(app, 1);
    await nextAttempt(1);
    clock = failingFrom + DISABLE_AFTER_MS - 1000;
    await nextAttempt(2); // the first retry: failing for just under 3 days
    expect((await app.accounts.store.webhooks.listEndpoints())[0]!.disabledAt).toBeNull();
    clock = failingFrom + DISABLE_AFTER_MS;
    await writeEvents(app, 1);
    await nextAttempt(3);
    const [endpoint] = await app.accounts.store.webhooks.listEndpoints();
    expect(endpoint).toMatchObject({ failingSince: failingFrom, disabledAt: clock });
    expect(app.webhookDeliverer!.disabled).toBe(1);
    // Disabled: new events are not queued for it and its waiting deliveries are not sent.
    clock += 24 * HOUR;
    await writeEvents(app, 1);
    await nextAttempt(3);
    expect(hooks.attempts).toHaveLength(3);
    hooks.answerWith(() => 200);
    expect(await app.accounts.store.webhooks.enableEndpoint(endpointId)).toBe(true);
    await nextAttempt(5); // the two retries waiting since it was disabled
    await writeEvents(app, 1);
    await nextAttempt(6);
    expect(hooks.received).toHaveLength(3);
    expect((await app.accounts.store.webhooks.listEndpoints())[0]).toMatchObject({
      failingSince: null,
      disabledAt: null,
    });
    await app.accounts.store.webhooks.removeEndpoint(endpointId);
  });

  it('prunes events past EVENTS_RETENTION_DAYS, except one a delivery still waits for', async () => {
    hooks = await startWebhookReceiver({ answer: () => 503 });
    const uids = async () => (await app.accounts.store.events.list({ limit: 100_000 })).map((e) => e.uid);
    const before = await uids();
    await writeEvents(app, 1);
    const [old] = (await uids()).filter((uid) => !before.includes(uid));
    const endpointId = await subscribe(app, hooks);
    await writeEvents(app, 1);
    await nextAttempt(1);
    const waiting = hooks.attempts[0]!;
    clock += 91 * 24 * HOUR;
    await nextAttempt(2); // the retry fails again; the round then prunes
    expect(await uids()).not.toContain(old);
    expect(await uids()).toContain(waiting);
    await app.accounts.store.webhooks.removeEndpoint(endpointId);
    clock += 2 * HOUR;
    await nextAttempt(2);
    expect(await uids()).not.toContain(waiting);
  });
});

describe('webhook targets', () => {
  it('are refused without MFA_KEY, with an unknown pattern, or when not https to a public address', async () => {
    const { loadConfig } = await import('../config.js');
    const { openServices } = await import('../services.js');
    const services = await openServices(loadConfig({ DATABASE_URL: 'sqlite::memory:', MFA_KEY: TEST_KEY }));
    const add = (url: string, events: string[] = [], box = services.ctx.secrets) =>
      addWebhook(services.ctx.store, box, { url, events }, { allowPrivate: false, now: 0 });
    try {
      await expect(add('https://example.com/', [], null)).rejects.toThrow(/MFA_KEY is not set/);
      await expect(add('https://example.com/', ['user.nothing'])).rejects.toThrow(/unknown event pattern/);
      await expect(add('http://example.com/')).rejects.toThrow(/must be https/);
      await expect(add('not a url')).rejects.toThrow(/not a URL/);
      await expect(add('https://user:pw@example.com/')).rejects.toThrow(/credentials/);
      for (const target of [
        'https://127.0.0.1/',
        'https://10.1.2.3/',
        'https://192.168.0.10/',
        'https://169.254.169.254/latest/meta-data/',
        'https://[::1]/',
        'https://[::ffff:127.0.0.1]/',
        'https://[fd00::1]/',
        'https://localhost/',
      ])
        await expect(add(target), target).rejects.toThrow(/not a public address/);
      expect(await services.ctx.store.webhooks.listEndpoints()).toEqual([]);
    } finally {
      await services.close();
    }
  });
});
