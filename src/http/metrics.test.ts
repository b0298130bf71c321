import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/e2e/processes.js';
import { authHeader, buildTestApp, PASSWORD, signupAccount, TEST_MFA_KEY } from '../../test/helpers.js';
import { startWebhookReceiver } from '../../test/webhook-receiver.js';
import { addWebhook } from '../webhooks/endpoints.js';

describe('Prometheus metrics on METRICS_PORT', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    app = await buildTestApp('sqlite::memory:', { METRICS_PORT: String(port) });
  });
  afterAll(() => app.close());

  it('counts requests by route and status, login outcomes, argon2 queue and event-loop delay', async () => {
    const account = await signupAccount(app);
    await app.inject({ url: `/api/v1/users/${account.id}/`, headers: authHeader(account.token) });
    await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: account.email, password: PASSWORD },
    });
    await app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: account.email, password: 'nope nope nope' },
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /ras_http_requests_total\{route="\/api\/v1\/users\/:userid\/",method="GET",status="200"\} 1/,
    );
    expect(text).toMatch(
      /ras_http_request_duration_seconds_bucket\{le="0.005",route="\/api\/v1\/users\/:userid\/"/,
    );
    expect(text).toMatch(/ras_login_outcomes_total\{outcome="success"\} 1/);
    expect(text).toMatch(/ras_login_outcomes_total\{outcome="invalid"\} 1/);
    expect(text).toMatch(/ras_argon2_queued 0/);
    // user.created, user.login.succeeded, user.login.failed
    expect(text).toMatch(/ras_events_written_total 3/);
    expect(text).toMatch(/nodejs_eventloop_lag_p99_seconds/);
  });

  it('is not served on the API port', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });
});

it('counts mails sent and queued, and the age of the oldest, with SMTP_URL set', async () => {
  const port = await freePort();
  const app = await buildTestApp('sqlite::memory:', { METRICS_PORT: String(port), SMTP_URL: 'log:' });
  try {
    await signupAccount(app);
    const deadline = Date.now() + 5000;
    let text = '';
    while (!/ras_mail_sent_total 1/.test(text) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    expect(text).toMatch(/ras_mail_sent_total 1/);
    expect(text).toMatch(/ras_mail_failed_total 0/);
    expect(text).toMatch(/ras_mail_queued 0/);
    expect(text).toMatch(/ras_mail_oldest_queued_seconds 0/);
  } finally {
    await app.close();
  }
});

it('counts webhook deliveries, and what waits per endpoint', async () => {
  const port = await freePort();
  const hooks = await startWebhookReceiver({ answer: () => 503 });
  const app = await buildTestApp('sqlite::memory:', {
    METRICS_PORT: String(port),
    MFA_KEY: TEST_MFA_KEY,
    WEBHOOK_ALLOW_PRIVATE: 'on',
  });
  try {
    const { endpoint, secret } = await addWebhook(
      app.accounts.store,
      app.accounts.secrets,
      { url: hooks.url, events: [] },
      { allowPrivate: true, now: Date.now() },
    );
    hooks.useSecret(secret);
    await signupAccount(app);
    await hooks.until(() => hooks.attempts.length >= 1);
    await app.webhookDeliverer!.idle();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/ras_events_written_total 1/);
    expect(text).toMatch(/ras_webhook_deliveries_sent_total 0/);
    expect(text).toMatch(/ras_webhook_deliveries_failed_total 0/);
    expect(text).toContain(`ras_webhook_queued{endpoint="${endpoint.id}"} 1`);
    expect(text).toMatch(new RegExp(`ras_webhook_oldest_queued_seconds\\{endpoint="${endpoint.id}"\\} \\d`));
  } finally {
    await app.close();
    await hooks.close();
  }
});
