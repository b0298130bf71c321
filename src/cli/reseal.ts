import type { Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Tables } from '../store/schema.js';

/**
 * `ras secrets reseal`: after a key rotation (MFA_KEY new, MFA_KEY_OLD the previous), seals every TOTP and
 * webhook secret under the new key. Each row is rewritten only if it still holds what was read (another
 * process may re-enrol meanwhile); running it twice changes nothing. Once it reports none left under the old
 * key, MFA_KEY_OLD can go.
 */
export async function resealSecrets(
  db: Kysely<Tables>,
  box: SecretBox,
): Promise<{ totp: number; webhooks: number }> {
  let totp = 0;
  for (const row of await db.selectFrom('mfa_totp').select(['user_id', 'secret_sealed']).execute()) {
    if (box.isCurrent(row.secret_sealed)) continue;
    const owner = String(row.user_id);
    const sealed = box.seal(box.open(row.secret_sealed, 'totp', owner), 'totp', owner);
    const result = await db
      .updateTable('mfa_totp')
      .set({ secret_sealed: sealed })
      .where('user_id', '=', row.user_id)
      .where('secret_sealed', '=', row.secret_sealed)
      .executeTakeFirst();
    totp += Number(result.numUpdatedRows);
  }
  let webhooks = 0;
  for (const row of await db.selectFrom('webhook_endpoints').select(['id', 'secret_sealed']).execute()) {
    if (box.isCurrent(row.secret_sealed)) continue;
    const sealed = box.seal(box.open(row.secret_sealed, 'webhook'), 'webhook');
    const result = await db
      .updateTable('webhook_endpoints')
      .set({ secret_sealed: sealed })
      .where('id', '=', row.id)
      .where('secret_sealed', '=', row.secret_sealed)
      .executeTakeFirst();
    webhooks += Number(result.numUpdatedRows);
  }
  return { totp, webhooks };
}
