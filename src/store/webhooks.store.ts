import { type Kysely, PostgresAdapter, type Selectable } from 'kysely';
import type { ClaimedDelivery, WebhookBacklog, WebhookEndpoint, WebhookStore } from '../accounts/storage.js';
import { toEventRecord } from './events.store.js';
import type { Tables, WebhookEndpointsTable } from './schema.js';

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  return {
    id: Number(row.id),
    url: row.url,
    events: row.events.split(','),
    createdAt: Number(row.created_at),
    failingSince: row.failing_since === null ? null : Number(row.failing_since),
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  };
}

/** Webhook endpoints and their delivery queue (`webhook_deliveries`), claimed like the mail outbox. */
export class KyselyWebhookStore implements WebhookStore {
  readonly #postgres: boolean;

  /** `queued` is told of each event queued for delivery (store.ts wakes the deliverer after the commit). */
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly queued: () => void = () => undefined,
  ) {
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async addEndpoint(endpoint: {
    url: string;
    events: string[];
    secretSealed: string;
    createdAt: number;
  }): Promise<number> {
    const row = await this.db
      .insertInto('webhook_endpoints')
      .values({
        url: endpoint.url,
        events: endpoint.events.join(','),
        secret_sealed: endpoint.secretSealed,
        created_at: endpoint.createdAt,
        failing_since: null,
        disabled_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();
    return rows.map(toEndpoint);
  }

  async removeEndpoint(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async activeEndpoints(): Promise<WebhookEndpoint[]> {
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('disabled_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }

  async queueDeliveries(eventId: number, endpointIds: number[], now: number): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values(
        endpointIds.map((endpointId) => ({
          endpoint_id: endpointId,
          event_id: eventId,
          created_at: now,
          next_attempt_at: now,
          delivered_at: null,
          failed_at: null,
          last_error: null,
        })),
      )
      .execute();
    this.queued();
  }

  async dueEndpoints(now: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select('d.endpoint_id')
      .distinct()
      .where('e.disabled_at', 'is', null)
      .where('d.delivered_at', 'is', null)
      .where('d.failed_at', 'is', null)
      .where('d.next_attempt_at', '<=', now)
      .execute();
    return rows.map((row) => Number(row.endpoint_id));
  }

  async claimDue(
    endpointId: number,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<ClaimedDelivery[]> {
    const due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('endpoint_id', '=', endpointId)
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .$if(this.#postgres, (query) => query.forUpdate().skipLocked());
    // One UPDATE … RETURNING: a row is claimed by one deliverer, which pushes its next attempt past the lease.
    const claimed = await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ next_attempt_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', due)
      .returning(['id', 'event_id', 'created_at', 'attempts'])
      .execute();
    if (claimed.length === 0) return [];
    const endpoint = await this.db
      .selectFrom('webhook_endpoints')
      .select(['url', 'secret_sealed'])
      .where('id', '=', endpointId)
      .executeTakeFirst();
    const events = await this.db
      .selectFrom('events')
      .selectAll()
      .where(
        'id',
        'in',
        claimed.map((row) => row.event_id),
      )
      .execute();
    const eventById = new Map(events.map((row) => [Number(row.id), toEventRecord(row)]));
    if (!endpoint) return [];
    return claimed
      .sort((a, b) => Number(a.id) - Number(b.id))
      .flatMap((row) => {
        const event = eventById.get(Number(row.event_id));
        return event
          ? [
              {
                id: Number(row.id),
                endpointId,
                url: endpoint.url,
                secretSealed: endpoint.secret_sealed,
                event,
                createdAt: Number(row.created_at),
                attempts: row.attempts,
              },
            ]
          : [];
      });
  }

  async markDelivered(delivery: { id: number; endpointId: number }, now: number): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ delivered_at: now, last_error: null })
      .where('id', '=', delivery.id)
      .execute();
    await this.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: null })
      .where('id', '=', delivery.endpointId)
      .where('failing_since', 'is not', null)
      .execute();
  }

  async retryAt(
    delivery: { id: number; endpointId: number },
    at: number,
    now: number,
    error: string,
  ): Promise<number> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: at, last_error: error.slice(0, 500) })
      .where('id', '=', delivery.id)
      .execute();
    return this.#failing(delivery.endpointId, now);
  }

  async markFailed(
    delivery: { id: number; endpointId: number },
    now: number,
    error: string,
  ): Promise<number> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ failed_at: now, last_error: error.slice(0, 500) })
      .where('id', '=', delivery.id)
      .execute();
    return this.#failing(delivery.endpointId, now);
  }

  /** Marks the endpoint failing from now unless it already is; returns since when. */
  async #failing(endpointId: number, now: number): Promise<number> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: now })
      .where('id', '=', endpointId)
      .where('failing_since', 'is', null)
      .execute();
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .select('failing_since')
      .where('id', '=', endpointId)
      .executeTakeFirst();
    return row?.failing_since === null || row?.failing_since === undefined ? now : Number(row.failing_since);
  }

  async disableEndpoint(endpointId: number, now: number): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ disabled_at: now })
      .where('id', '=', endpointId)
      .where('disabled_at', 'is', null)
      .execute();
  }

  async enableEndpoint(endpointId: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ disabled_at: null, failing_since: null })
      .where('id', '=', endpointId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async pruneFinished(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where((eb) => eb.or([eb('delivered_at', '<', before), eb('failed_at', '<', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async backlog(now: number): Promise<WebhookBacklog[]> {
    const rows = await this.db
      .selectFrom('webhook_endpoints as e')
      .leftJoin('webhook_deliveries as d', (join) =>
        join
          .onRef('d.endpoint_id', '=', 'e.id')
          .on('d.delivered_at', 'is', null)
          .on('d.failed_at', 'is', null),
      )
      .select((eb) => [
        'e.id',
        'e.url',
        eb.fn.count<number | string>('d.id').as('n'),
        eb.fn.min('d.created_at').as('oldest'),
      ])
      .where('e.disabled_at', 'is', null)
      .groupBy(['e.id', 'e.url'])
      .execute();
    return rows.map((row) => ({
      endpointId: Number(row.id),
      url: row.url,
      queued: Number(row.n),
      oldestAgeMs: row.oldest === null ? 0 : now - Number(row.oldest),
    }));
  }
}
