import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import { EVENT_PAGE, EVENT_TYPES, eventView, listEventsOf } from '../accounts/events.js';
import { authOf } from './auth-guard.js';
import { envelope } from './error-mapper.js';
import { MESSAGES } from './messages.js';
import { authErrors, envelopeOf, tokenSecurity, UserIdParams } from './schemas.js';

const EVENT_ID = '^evt_[A-Za-z0-9_-]{22}$';

export const EventItem = Type.Object(
  {
    id: Type.String({ pattern: EVENT_ID, description: 'Unique; the `webhook-id` of its webhook deliveries' }),
    type: Type.Union(
      EVENT_TYPES.map((type) => Type.Literal(type)),
      { description: 'What happened' },
    ),
    created_at: Type.String({ format: 'date-time' }),
    user_id: Type.Union([Type.Integer(), Type.Null()]),
    actor: Type.Object({
      type: Type.Union([Type.Literal('user'), Type.Literal('cli'), Type.Literal('admin_key')]),
      name: Type.Optional(Type.String({ description: "The operator's OS user, or the admin key's name" })),
    }),
    ip: Type.Union([Type.String(), Type.Null()], { description: 'As the session records it' }),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(
      Type.String(),
      Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
      {
        description: 'Ids, counts and addresses; never a password, token, code or hash',
      },
    ),
  },
  { title: 'Event' },
);

const EventsQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: EVENT_PAGE.max,
      default: EVENT_PAGE.default,
      description: 'Events per page',
    }),
  ),
  before: Type.Optional(
    Type.String({
      pattern: EVENT_ID,
      description: 'Only older events: the `next_before` of the previous page',
    }),
  ),
});

const EventsResponse = Type.Object(
  {
    status_code: Type.Integer(),
    message: Type.String(),
    result: Type.Array(EventItem, { description: "The account's events, newest first" }),
    next_before: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `?before=` for the next page; null on the last page',
    }),
  },
  { title: 'EventPage' },
);

/** The account's own audit log (where and when it was used); inside `ownAccountScope`. */
export const eventsRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/users/:userid/events/',
    {
      schema: {
        tags: ['events'],
        summary: "The account's events (logins, changes, revocations), newest first",
        security: tokenSecurity,
        params: UserIdParams,
        querystring: EventsQuery,
        response: {
          200: EventsResponse,
          400: envelopeOf('`limit` or `before` is out of range', MESSAGES.invalidQuery),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const { limit = EVENT_PAGE.default, before } = request.query;
      const page = await listEventsOf(ctx, session.userId, { limit, before });
      return { ...envelope(200, MESSAGES.events, page.rows.map(eventView)), next_before: page.next };
    },
  );
};
