import type { Kysely } from 'kysely';
import type { Store } from '../accounts/storage.js';
import { checkSchema } from './migrate.js';
import type { Tables } from './schema.js';
import { KyselySessionStore } from './sessions.store.js';
import { KyselyUserStore } from './users.store.js';
import { KyselyTokenStore } from './tokens.store.js';
import { KyselyOutboxStore } from './outbox.store.js';

/** The accounts domain's storage over one Kysely instance (or one transaction of it). */
export class KyselyStore implements Store {
  readonly users: KyselyUserStore;
  readonly sessions: KyselySessionStore;
  readonly tokens: KyselyTokenStore;
  readonly outbox: KyselyOutboxStore;

  constructor(private readonly db: Kysely<Tables>) {
    this.users = new KyselyUserStore(db);
    this.sessions = new KyselySessionStore(db);
    this.tokens = new KyselyTokenStore(db);
    this.outbox = new KyselyOutboxStore(db);
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    return this.db.transaction().execute((trx) => work(new KyselyStore(trx)));
  }

  ping(): Promise<void> {
    return checkSchema(this.db);
  }
}
