import { afterAll, expect, it } from 'vitest';
import { runCli, startServer } from '../e2e/processes.js';
import { databaseOfItsOwn, describeEachDatabase, PASSWORD, TEST_MFA_KEY, uniqueEmail } from '../helpers.js';
import { startWebhookReceiver } from '../webhook-receiver.js';

const EVENTS = 50;

describeEachDatabase('kill -9 with webhooks queued', (database) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('loses none: every one of 50 queued events is delivered after a restart, retries with the same id', async () => {
    const { url, drop } = await databaseOfItsOwn(database);
    cleanup.push(drop);
    // The receiver holds every request open: the server dies with deliveries claimed and the rest queued.
    const receiver = await startWebhookReceiver({ answer: () => 'hang' });
    cleanup.push(() => receiver.close());
    const env = {
      DATABASE_URL: url,
      RATE_LIMIT: 'off',
      MFA_KEY: TEST_MFA_KEY,
      WEBHOOK_ALLOW_PRIVATE: 'on',
      LOG_LEVEL: 'info',
    };
    let server = await startServer(env);
    cleanup.push(() => server.stop('SIGKILL'));
    const added = await runCli(['webhooks', 'add', receiver.url, '--events', 'user.created'], env);
    expect(added.code, added.stderr).toBe(0);
    const secret = added.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    receiver.useSecret(secret);
    const listed = await runCli(['webhooks', 'list'], env);
    expect(listed.stdout).toContain(receiver.url);
    expect(listed.stdout).not.toContain(secret.slice(6));

    for (let batch = 0; batch < EVENTS / 5; batch++)
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          const res = await fetch(`${server.url}/api/v1/users/signup/`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: uniqueEmail('hooked'), password: PASSWORD }),
          });
          expect(res.status).toBe(201);
        }),
      );
    await receiver.until(() => receiver.held.size >= 4);
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server.child.once('exit', resolve));
    expect(receiver.received).toHaveLength(0);

    receiver.answerWith(() => 200);
    server = await startServer(env);
    // The queued ones go at once; the ones the dead process had claimed, once their 15 s lease ends.
    await receiver.until(() => new Set(receiver.received.map((r) => r.id)).size >= EVENTS);

    const listedEvents = await runCli(['events', 'list', '--type', 'user.created', '--limit', '100'], env);
    const ids = listedEvents.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(ids));
    // Duplicates only as retries of one event: every request carried one of these ids.
    expect(receiver.attempts.every((id) => ids.includes(id))).toBe(true);
    expect(receiver.rejected).toEqual([]);
    console.log(
      `webhooks kill -9 [${database.name}]: ${EVENTS} events, ${receiver.attempts.length} requests in all ` +
        `(${receiver.attempts.length - EVENTS} retries), every event delivered after the restart`,
    );
    expect(await server.stop()).toBe(0);
  }, 120_000); // two server starts and a 15 s lease: room for a loaded CI machine
});
