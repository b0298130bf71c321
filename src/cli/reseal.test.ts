import { expect, it } from 'vitest';
import { SecretBox } from '../crypto/secret-box.js';
import { openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { resealSecrets } from './reseal.js';

it('reseals every TOTP and webhook secret under the new key after a rotation, once', async () => {
  const database = await openDatabase('sqlite::memory:');
  try {
    await migrateToLatest(database.db);
    const [oldKey, newKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const before = new SecretBox(oldKey);
    const user = await database.db
      .insertInto('users')
      .values({
        email: 'a@example.com',
        password_hash: 'x',
        is_active: 1,
        date_joined: 0,
        password_changed_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('mfa_totp')
      .values({
        user_id: user.id,
        secret_sealed: before.seal('TOTPSECRET', 'totp', String(user.id)),
        confirmed_at: 1,
        last_step: null,
        created_at: 0,
      })
      .execute();
    await database.db
      .insertInto('webhook_endpoints')
      .values({
        url: 'https://example.com/',
        events: '*',
        secret_sealed: before.seal('whsec_x', 'webhook'),
        created_at: 0,
        failing_since: null,
        disabled_at: null,
      })
      .execute();
    const rotated = new SecretBox(newKey, oldKey);
    expect(await resealSecrets(database.db, rotated)).toEqual({ totp: 1, webhooks: 1 });
    expect(await resealSecrets(database.db, rotated)).toEqual({ totp: 0, webhooks: 0 });
    const onlyNew = new SecretBox(newKey);
    const totp = await database.db.selectFrom('mfa_totp').select('secret_sealed').executeTakeFirstOrThrow();
    expect(onlyNew.open(totp.secret_sealed, 'totp', String(user.id))).toBe('TOTPSECRET');
    const hook = await database.db
      .selectFrom('webhook_endpoints')
      .select('secret_sealed')
      .executeTakeFirstOrThrow();
    expect(onlyNew.open(hook.secret_sealed, 'webhook')).toBe('whsec_x');
    // Bound to its owner: another account's id does not open it.
    expect(() => onlyNew.open(totp.secret_sealed, 'totp', String(user.id + 1))).toThrow();
  } finally {
    await database.close();
  }
});
