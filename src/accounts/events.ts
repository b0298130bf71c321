/**
 * The audit log. Every account change writes one event in the transaction of the change (`recordEvent`), so
 * an event exists exactly when its change committed; in the same transaction the event is queued for every
 * webhook endpoint whose patterns match (delivered after the commit by webhooks/deliverer.ts). An event names
 * who acted (the account's owner, an operator's CLI, an admin key) and from where (address and user agent as a
 * session records them), and never holds a password, token, code or hash: `data` carries ids, counts and
 * addresses only.
 */
import { randomBytes } from 'node:crypto';
import type { AccountsContext, ClientInfo } from './context.js';
import { recordedClient } from './client-address.js';
import type { EventFilter, Store } from './storage.js';
import { keysetPage, type Page } from './pages.js';
import { EVENT_TYPES, type EventData, type EventRecord, type EventType } from './event-types.js';

export * from './event-types.js';

/** Keys that would name a secret: refused, so no path can put one in the log by mistake. */
const SECRET_KEY = /password|token|secret|code|hash|key$/i;

/**
 * Writes the event in `tx` (a transaction's store: the change and its event commit together) and queues it
 * for each matching webhook endpoint. The one way events are written.
 */
export async function recordEvent(
  ctx: Pick<AccountsContext, 'now'>,
  tx: Store,
  type: EventType,
  about: { userId: number | null; client: ClientInfo; data?: EventData },
): Promise<void> {
  const data = about.data ?? {};
  const secretLike = Object.keys(data).find((key) => SECRET_KEY.test(key));
  if (secretLike) throw new Error(`event data must not carry a secret (${secretLike})`);
  const now = ctx.now();
  const { ip, userAgent } = recordedClient(about.client);
  const id = await tx.events.append({
    uid: `evt_${randomBytes(16).toString('base64url')}`,
    type,
    createdAt: now,
    userId: about.userId,
    actor: about.client.actor ?? { type: 'user' },
    ip,
    userAgent,
    data,
  });
  const endpoints = (await tx.webhooks.activeEndpoints()).filter((e) => matchesAny(e.events, type));
  if (endpoints.length > 0)
    await tx.webhooks.queueDeliveries(
      id,
      endpoints.map((e) => e.id),
      now,
    );
}

/** Whether an event type is selected by a pattern list: `*`, the type itself, or a prefix ending in `.*`. */
export function matchesAny(patterns: string[], type: string): boolean {
  return patterns.some(
    (pattern) =>
      pattern === '*' ||
      pattern === type ||
      (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}

/** A pattern `ras webhooks add --events` accepts: `*`, a known type, or a prefix of known types with `.*`. */
export function isEventPattern(pattern: string): boolean {
  if (pattern === '*' || (EVENT_TYPES as readonly string[]).includes(pattern)) return true;
  return pattern.endsWith('.*') && EVENT_TYPES.some((type) => type.startsWith(pattern.slice(0, -1)));
}

export const EVENT_PAGE = { default: 50, max: 100 } as const;

/** One page of the account's events, newest first, and the `before` of the next page (if any). */
export async function listEventsOf(
  ctx: Pick<AccountsContext, 'store'>,
  userId: number,
  page: { limit: number; before?: string },
): Promise<Page<EventRecord, string>> {
  return keysetPage(
    page.limit,
    EVENT_PAGE.max,
    (limit) => ctx.store.events.listOfUser(userId, { limit, before: page.before }),
    (event) => event.uid,
  );
}

/** One page of the whole log (operators), oldest first, at most `max` events, and the `after` of the next. */
export function listEvents(
  ctx: Pick<AccountsContext, 'store'>,
  filter: EventFilter,
  max: number,
): Promise<Page<EventRecord, string>> {
  return keysetPage(
    filter.limit,
    max,
    (limit) => ctx.store.events.list({ ...filter, limit }),
    (event) => event.uid,
  );
}

/** An event as the API, the CLI and webhooks show it. */
export function eventView(event: EventRecord) {
  return {
    id: event.uid,
    type: event.type,
    created_at: new Date(event.createdAt).toISOString(),
    user_id: event.userId,
    actor: event.actor,
    ip: event.ip,
    user_agent: event.userAgent,
    data: event.data,
  };
}

export type EventView = ReturnType<typeof eventView>;
