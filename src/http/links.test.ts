/**
 * The attack on recovery (issue 21): every outstanding link ends when the account's credentials change; no copy
 * of the database holds a live link or session token; concurrent confirmations of one address never answer 500.
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setPassword } from '../accounts/recovery.js';
import {
  authHeader,
  buildTestApp,
  databaseOfItsOwn,
  describeEachDatabase,
  PASSWORD,
  signupAccount,
  type TestAccount,
  uniqueEmail,
  OPERATOR,
  untilBlockedBy,
} from '../../test/helpers.js';
import { mailEnv, startMailServer, tokenIn } from '../../test/mail-server.js';
import { dump } from '../../test/dump.js';
import { loadBetterSqlite3 } from '../store/sqlite-module.js';

/** better-sqlite3 in the major that works on this Node.js (see sqlite-module.ts). */

const NEW_PASSWORD = 'a brand new passphrase';
const INVALID_LINK = { status_code: 400, message: 'invalid or expired token' };

type Mail = Awaited<ReturnType<typeof startMailServer>>;

describeEachDatabase('links end with the credentials', (database) => {
  let mail: Mail;
  let app: FastifyInstance;
  let databaseUrl: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    mail = await startMailServer();
    ({ url: databaseUrl, drop } = await databaseOfItsOwn(database));
    app = await buildTestApp(databaseUrl, mailEnv(mail.url), { mailPollMs: 50 });
  });
  afterAll(async () => {
    await app.close();
    await mail.close();
    await drop();
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload, headers });
  const own = (account: TestAccount, path: string, payload: object) =>
    post(`/api/v1/users/${account.id}/${path}`, payload, authHeader(account.token));

  /** The newest link of the subject's kind mailed to `to`. */
  async function newestLink(to: string, subject: string, count: number): Promise<string> {
    const mails = await mail.waitForSubject(to, subject, count);
    return tokenIn(mails.at(-1)!);
  }

  type Link = 'reset' | 'verify' | 'email change';
  const links: Record<Link, (account: TestAccount) => Promise<{ use: () => Promise<unknown> }>> = {
    async reset(account) {
      await post('/api/v1/users/password/reset/', { email: account.email });
      const token = await newestLink(account.email, 'Reset', 1);
      return {
        use: async () =>
          (
            await post('/api/v1/users/password/reset/confirm/', { token, new_password: 'another passphrase' })
          ).json(),
      };
    },
    async verify(account) {
      const token = await newestLink(account.email, 'Confirm your email address', 1);
      return { use: async () => (await post('/api/v1/users/email/verify/', { token })).json() };
    },
    async 'email change'(account) {
      const target = uniqueEmail('target');
      await own(account, 'email/', { password: PASSWORD, new_email: target });
      const token = await newestLink(target, 'Confirm your new email address', 1);
      return { use: async () => (await post('/api/v1/users/email/verify/', { token })).json() };
    },
  };

  type Change =
    | 'password change'
    | 'password reset'
    | 'email change'
    | 'deactivation'
    | 'deletion'
    | 'operator set-password';
  const changes: Record<Change, (account: TestAccount) => Promise<void>> = {
    async 'password change'(account) {
      const res = await own(account, 'password/', { current_password: PASSWORD, new_password: NEW_PASSWORD });
      expect(res.statusCode).toBe(200);
    },
    async 'password reset'(account) {
      // A reset link of the operator's (a mailed one would be the newest reset link and supersede a mailed one).
      const user = (await app.accounts.store.users.findUserById(account.id))!;
      const { createResetToken } = await import('../accounts/recovery.js');
      const token = await createResetToken(app.accounts, user, 60_000);
      const res = await post('/api/v1/users/password/reset/confirm/', { token, new_password: NEW_PASSWORD });
      expect(res.statusCode).toBe(200);
    },
    async 'email change'(account) {
      const moved = uniqueEmail('moved');
      await own(account, 'email/', { password: PASSWORD, new_email: moved });
      const token = await newestLink(moved, 'Confirm your new email address', 1);
      expect((await post('/api/v1/users/email/verify/', { token })).statusCode).toBe(200);
    },
    async deactivation(account) {
      expect((await own(account, 'deactivate/', { password: PASSWORD })).statusCode).toBe(200);
    },
    async deletion(account) {
      expect((await own(account, 'delete/', { password: PASSWORD })).statusCode).toBe(200);
    },
    async 'operator set-password'(account) {
      await setPassword(app.accounts, account, NEW_PASSWORD, OPERATOR);
    },
  };

  for (const link of Object.keys(links) as Link[])
    for (const change of Object.keys(changes) as Change[])
      it(`a ${link} link issued before a ${change} answers 400 after it`, async () => {
        const account = await signupAccount(app);
        const issued = await links[link](account);
        await changes[change](account);
        expect(await issued.use()).toEqual(INVALID_LINK);
      });

  it('holds no link token and no session token in any row, while mail is queued and after delivery', async () => {
    // A database of its own: the suite's app would deliver these mails to its own relay.
    const own = await databaseOfItsOwn(database);
    const databaseUrl = own.url;
    const down = await startMailServer();
    const port = down.port;
    await down.close();
    // A second instance whose SMTP relay is down: its mails stay queued until it is back.
    const queuing = await buildTestApp(databaseUrl, mailEnv(`smtp://127.0.0.1:${port}`), { mailPollMs: 50 });
    const account = await signupAccount(queuing);
    const secrets = [account.token];
    try {
      await queuing.inject({
        method: 'POST',
        url: '/api/v1/users/password/reset/',
        payload: { email: account.email },
      });
      const changed = uniqueEmail('queued');
      await queuing.inject({
        method: 'POST',
        url: `/api/v1/users/${account.id}/email/`,
        payload: { password: PASSWORD, new_email: changed },
        headers: authHeader(account.token),
      });
      // The deliverer tried (and minted) while the relay was down: what it minted is in no row either.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const whileQueued = dump(databaseUrl);
      expect(whileQueued).not.toContain('ras_reset_');
      expect(whileQueued).not.toContain('ras_verify_');
      expect(whileQueued).not.toContain(account.token);

      const relay = await startMailServer(port);
      try {
        // Retries back off: the clock-free way to see the queue drain is to start a fresh instance on it.
        await queuing.close();
        const delivering = await buildTestApp(databaseUrl, mailEnv(relay.url), { mailPollMs: 50 });
        try {
          await forceDue(databaseUrl);
          const received = [
            ...(await relay.waitForSubject(account.email, 'Reset')),
            ...(await relay.waitForSubject(changed, 'Confirm your new email address')),
            ...(await relay.waitForSubject(account.email, 'Confirm your email address')),
          ];
          secrets.push(...received.map(tokenIn));
        } finally {
          await delivering.close();
        }
      } finally {
        await relay.close();
      }
      const afterDelivery = dump(databaseUrl);
      expect(secrets).toHaveLength(4);
      for (const secret of secrets) expect(afterDelivery).not.toContain(secret);
      expect(afterDelivery).not.toContain('ras_reset_');
      expect(afterDelivery).not.toContain('ras_verify_');
    } finally {
      await queuing.close().catch(() => undefined);
      await own.drop();
    }
  });

  // PostgreSQL only: SQLite runs one write at a time, so the interleaving cannot happen there.
  if (database.name === 'postgres')
    it('refuses a link confirmed while a password change is committing (forced interleaving on the row lock)', async () => {
      const account = await signupAccount(app);
      const target = uniqueEmail('racing');
      await own(account, 'email/', { password: PASSWORD, new_email: target });
      const token = await newestLink(target, 'Confirm your new email address', 1);
      const other = new pg.Client({ connectionString: databaseUrl });
      await other.connect();
      try {
        // A password change in flight: the version raised, not yet committed, the row held.
        await other.query('begin');
        await other.query('update users set credentials_version = credentials_version + 1 where id = $1', [
          account.id,
        ]);
        const confirming = post('/api/v1/users/email/verify/', { token });
        // The confirmation took the token (the raise is not visible yet) and now waits for the row.
        await untilBlockedBy(other);
        await other.query('commit');
        expect((await confirming).json()).toEqual(INVALID_LINK);
        const user = await app.accounts.store.users.findUserById(account.id);
        expect(user!.email).toBe(account.email);
      } finally {
        await other.end();
      }
    });

  it('of 10 concurrent confirmations of one email-change link, exactly one succeeds and none is a 500', async () => {
    const account = await signupAccount(app);
    const target = uniqueEmail('once');
    await own(account, 'email/', { password: PASSWORD, new_email: target });
    const token = await newestLink(target, 'Confirm your new email address', 1);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post('/api/v1/users/email/verify/', { token })),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, ...Array(9).fill(400)]);
  });

  it('gives an address that two accounts confirm at once to one of them; the other gets 400, never 500', async () => {
    for (let round = 0; round < 3; round++) {
      const first = await signupAccount(app);
      const second = await signupAccount(app);
      const target = uniqueEmail('contested');
      await own(first, 'email/', { password: PASSWORD, new_email: target });
      await own(second, 'email/', { password: PASSWORD, new_email: target });
      const [a, b] = (await mail.waitForSubject(target, 'Confirm your new email address', 2)).map(tokenIn);
      const answers = await Promise.all(
        [a!, b!].map((token) => post('/api/v1/users/email/verify/', { token })),
      );
      const bodies = answers.map((r) => r.json<{ status_code: number; message: string }>());
      expect(bodies.sort((x, y) => x.status_code - y.status_code)).toEqual([
        { status_code: 200, message: 'email verified' },
        INVALID_LINK,
      ]);
    }
  });
});

const Database = await loadBetterSqlite3();

/** Makes every queued mail due now (the deliverer backed off while the relay was down). */
async function forceDue(url: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    db.prepare('update mail_outbox set next_attempt_at = 0 where sent_at is null').run();
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('update mail_outbox set next_attempt_at = 0 where sent_at is null');
  await client.end();
}
