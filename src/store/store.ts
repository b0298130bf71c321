import { type Kysely, sql } from 'kysely';
import type { Store } from '../accounts/storage.js';
import type { Tables } from './schema.js';
import { KyselySessionStore } from './sessions.store.js';
import { KyselyUserStore } from './users.store.js';

/** The accounts domain's storage over one Kysely instance (or one transaction of it). */
export class KyselyStore implements Store {
  readonly users: KyselyUserStore;
  readonly sessions: KyselySessionStore;

  constructor(private readonly db: Kysely<Tables>) {
    this.users = new KyselyUserStore(db);
    this.sessions = new KyselySessionStore(db);
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    return this.db.transaction().execute((trx) => work(new KyselyStore(trx)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }
}
