import { type Kysely, sql } from 'kysely';
import type { FailureCounter, ThrottleStore } from '../accounts/storage.js';
import type { Tables } from './schema.js';

const DAY = 24 * 60 * 60 * 1000;

/** Login failure counters in the `login_throttle` table: one row per key, updated with atomic upserts. */
export class SqlThrottleStore implements ThrottleStore {
  constructor(private readonly db: Kysely<Tables>) {}

  async readCounters(keys: string[]): Promise<Map<string, FailureCounter>> {
    const rows = await this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
    return new Map(
      rows.map((r) => [
        r.key,
        { failures: r.failures, blockedUntil: r.blocked_until, lastSuccessAt: r.last_success_at },
      ]),
    );
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<number> {
    const row = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, last_failure_at: now, blocked_until: 0, last_success_at: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when login_throttle.last_failure_at <= ${now - windowMs} then 1 else login_throttle.failures + 1 end`,
          last_failure_at: now,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return row.failures;
  }

  async blockUntil(key: string, until: number): Promise<void> {
    await this.db
      .updateTable('login_throttle')
      .set({ blocked_until: until })
      .where('key', '=', key)
      .where('blocked_until', '<', until)
      .execute();
  }

  async recordSuccess(key: string, now: number): Promise<void> {
    await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 0, last_failure_at: 0, blocked_until: 0, last_success_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ failures: 0, blocked_until: 0, last_success_at: now }),
      )
      .execute();
  }

  /** Deletes counters that no longer matter: no recent failure, no block, no success worth remembering. */
  async prune(now: number, rememberSuccessMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<', now - DAY)
      .where('blocked_until', '<', now)
      .where((eb) =>
        eb.or([eb('last_success_at', 'is', null), eb('last_success_at', '<', now - rememberSuccessMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
