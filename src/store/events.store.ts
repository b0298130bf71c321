import type { Kysely, Selectable } from 'kysely';
import type { Actor, EventRecord, EventType, NewEvent } from '../accounts/events.js';
import type { EventFilter, EventStore } from '../accounts/storage.js';
import type { EventsTable, Tables } from './schema.js';

export function toEventRecord(row: Selectable<EventsTable>): EventRecord {
  const actor: Actor = { type: row.actor_type as Actor['type'] };
  if (row.actor_name !== null) actor.name = row.actor_name;
  return {
    id: Number(row.id),
    uid: row.uid,
    type: row.type as EventType,
    createdAt: Number(row.created_at),
    userId: row.user_id === null ? null : Number(row.user_id),
    actor,
    ip: row.ip,
    userAgent: row.user_agent,
    data: JSON.parse(row.data) as EventRecord['data'],
  };
}

/** The audit log (`events`). Pages are keyset pages over the row id: no OFFSET, no COUNT. */
export class KyselyEventStore implements EventStore {
  /** `appended` is told of each event written (store.ts counts them once committed). */
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly appended: () => void = () => undefined,
  ) {}

  async append(event: NewEvent): Promise<number> {
    const row = await this.db
      .insertInto('events')
      .values({
        uid: event.uid,
        type: event.type,
        created_at: event.createdAt,
        user_id: event.userId,
        actor_type: event.actor.type,
        actor_name: event.actor.name?.slice(0, 100) ?? null,
        ip: event.ip,
        user_agent: event.userAgent,
        data: JSON.stringify(event.data),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    this.appended();
    return Number(row.id);
  }

  async listOfUser(userId: number, page: { limit: number; before?: string }): Promise<EventRecord[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('user_id', '=', userId)
      .$if(page.before !== undefined, (query) =>
        query.where('id', '<', (eb) =>
          eb.selectFrom('events').select('id').where('uid', '=', page.before!).where('user_id', '=', userId),
        ),
      )
      .orderBy('id', 'desc')
      .limit(page.limit)
      .execute();
    return rows.map(toEventRecord);
  }

  async list(filter: EventFilter): Promise<EventRecord[]> {
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .$if(filter.userId !== undefined, (query) => query.where('user_id', '=', filter.userId!))
      .$if(filter.type !== undefined, (query) => query.where('type', '=', filter.type!))
      .$if(filter.after !== undefined, (query) =>
        query.where('id', '>', (eb) => eb.selectFrom('events').select('id').where('uid', '=', filter.after!)),
      )
      .orderBy('id')
      .limit(filter.limit)
      .execute();
    return rows.map(toEventRecord);
  }

  async prune(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('events')
      .where('created_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries')
              .select('webhook_deliveries.id')
              .whereRef('webhook_deliveries.event_id', '=', 'events.id')
              .where('delivered_at', 'is', null)
              .where('failed_at', 'is', null),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
