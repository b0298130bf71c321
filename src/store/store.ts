import type { Kysely } from 'kysely';
import type { MailRequest, Store } from '../accounts/storage.js';
import { checkSchema } from './migrate.js';
import type { Tables } from './schema.js';
import { KyselySessionStore } from './sessions.store.js';
import { KyselyUserStore } from './users.store.js';
import { KyselyTokenStore } from './tokens.store.js';
import { KyselyOutboxStore } from './outbox.store.js';

/**
 * The accounts domain's storage over one Kysely instance (or one transaction of it). The code that commits
 * is the code that knows a queued mail may go: `onMailQueued` is called after the commit of every transaction
 * that queued a mail wanting prompt delivery (at once, outside a transaction), so no domain path has to
 * remember to wake the deliverer.
 */
export class KyselyStore implements Store {
  readonly users: KyselyUserStore;
  readonly sessions: KyselySessionStore;
  readonly tokens: KyselyTokenStore;
  readonly outbox: KyselyOutboxStore;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly onMailQueued: () => void = () => undefined,
    queued: (request: MailRequest) => void = (request) => request.unhurried || onMailQueued(),
  ) {
    this.users = new KyselyUserStore(db);
    this.sessions = new KyselySessionStore(db);
    this.tokens = new KyselyTokenStore(db);
    this.outbox = new KyselyOutboxStore(db, queued);
  }

  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    let wake = false;
    const result = await this.db.transaction().execute((trx) =>
      work(
        new KyselyStore(trx, this.onMailQueued, (request) => {
          wake ||= !request.unhurried;
        }),
      ),
    );
    if (wake) this.onMailQueued();
    return result;
  }

  ping(): Promise<void> {
    return checkSchema(this.db);
  }
}
