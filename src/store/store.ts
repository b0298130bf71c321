import type { Kysely } from 'kysely';
import type { MailRequest, Store } from '../accounts/storage.js';
import { checkSchema } from './migrate.js';
import type { Tables } from './schema.js';
import { KyselySessionStore } from './sessions.store.js';
import { KyselyUserStore } from './users.store.js';
import { KyselyTokenStore } from './tokens.store.js';
import { KyselyOutboxStore } from './outbox.store.js';
import { KyselyEventStore } from './events.store.js';
import { KyselyWebhookStore } from './webhooks.store.js';
import { KyselySecondFactorStore } from './second-factor.store.js';
import { KyselyAdminKeyStore } from './admin-keys.store.js';
import { KyselyPasskeyStore } from './passkeys.store.js';

/** Who to tell once a transaction that queued work has committed. */
export interface CommitHooks {
  /** A mail wanting prompt delivery was queued. */
  mailQueued?: () => void;
  /** An event was queued for a webhook endpoint. */
  webhooksQueued?: () => void;
  /** Events were written (metrics). */
  eventsWritten?: (count: number) => void;
}

/**
 * The accounts domain's storage over one Kysely instance (or one transaction of it). The code that commits
 * is the code that knows queued work may go: the hooks are called after the commit of every transaction that
 * queued a mail wanting prompt delivery or a webhook delivery (at once, outside a transaction), so no domain
 * path has to remember to wake a deliverer.
 */
export class KyselyStore implements Store {
  readonly users: KyselyUserStore;
  readonly mfa: KyselySecondFactorStore;
  readonly passkeys: KyselyPasskeyStore;
  readonly adminKeys: KyselyAdminKeyStore;
  readonly sessions: KyselySessionStore;
  readonly tokens: KyselyTokenStore;
  readonly outbox: KyselyOutboxStore;
  readonly events: KyselyEventStore;
  readonly webhooks: KyselyWebhookStore;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly hooks: CommitHooks = {},
    queued: { mail: (request: MailRequest) => void; webhooks: () => void; event: () => void } = {
      mail: (request) => request.unhurried || hooks.mailQueued?.(),
      webhooks: () => hooks.webhooksQueued?.(),
      event: () => hooks.eventsWritten?.(1),
    },
  ) {
    this.users = new KyselyUserStore(db);
    this.mfa = new KyselySecondFactorStore(db);
    this.passkeys = new KyselyPasskeyStore(db);
    this.adminKeys = new KyselyAdminKeyStore(db);
    this.sessions = new KyselySessionStore(db);
    this.tokens = new KyselyTokenStore(db);
    this.outbox = new KyselyOutboxStore(db, queued.mail);
    this.events = new KyselyEventStore(db, queued.event);
    this.webhooks = new KyselyWebhookStore(db, queued.webhooks);
  }

  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    let wakeMail = false;
    let wakeWebhooks = false;
    let events = 0;
    const result = await this.db.transaction().execute((trx) =>
      work(
        new KyselyStore(trx, this.hooks, {
          mail: (request) => (wakeMail ||= !request.unhurried),
          webhooks: () => (wakeWebhooks = true),
          event: () => events++,
        }),
      ),
    );
    if (wakeMail) this.hooks.mailQueued?.();
    if (wakeWebhooks) this.hooks.webhooksQueued?.();
    if (events > 0) this.hooks.eventsWritten?.(events);
    return result;
  }

  ping(): Promise<void> {
    return checkSchema(this.db);
  }
}
