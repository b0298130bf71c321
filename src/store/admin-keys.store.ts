import type { Kysely, Selectable } from 'kysely';
import type { AdminKeyRecord, AdminKeyStore, AdminScope } from '../accounts/storage.js';
import type { AdminKeysTable, Tables } from './schema.js';

function toRecord(row: Omit<Selectable<AdminKeysTable>, 'key_hash'>): AdminKeyRecord {
  return {
    id: Number(row.id),
    name: row.name,
    scopes: row.scopes.split(',') as AdminScope[],
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

const COLUMNS = ['id', 'name', 'scopes', 'created_at', 'last_used_at'] as const;

/** Admin keys: looked up by hash on every request (no cache), so a revocation holds from the next one. */
export class KyselyAdminKeyStore implements AdminKeyStore {
  constructor(private readonly db: Kysely<Tables>) {}

  async create(key: { name: string; keyHash: string; scopes: AdminScope[]; now: number }): Promise<boolean> {
    const row = await this.db
      .insertInto('admin_keys')
      .values({ name: key.name, key_hash: key.keyHash, scopes: key.scopes.join(','), created_at: key.now })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async list(): Promise<AdminKeyRecord[]> {
    return (await this.db.selectFrom('admin_keys').select(COLUMNS).orderBy('id').execute()).map(toRecord);
  }

  async revoke(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('admin_keys').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async findByHash(keyHash: string): Promise<AdminKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('admin_keys')
      .select(COLUMNS)
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async touch(id: number, now: number, notBefore: number): Promise<void> {
    await this.db
      .updateTable('admin_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', notBefore)]))
      .execute();
  }
}
