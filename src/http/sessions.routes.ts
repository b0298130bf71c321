import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import {
  listSessions,
  revokeAllSessions,
  revokeSession,
  SESSION_PAGE,
  sessionView,
} from '../accounts/sessions.js';
import { envelope } from './error-mapper.js';
import { clientOf } from './client.js';
import { authOf } from './auth-guard.js';
import { rowIdOf } from './path-ids.js';
import { HttpRefusal } from './refusals.js';
import { MESSAGES, SEED } from './messages.js';
import { securityEvent } from './security-log.js';
import {
  authErrors,
  Detail,
  envelopeOf,
  SessionParams,
  SessionsQuery,
  SessionsResponse,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';

/** The account's own sessions: list them, end one, end all (ASVS 7.5.2); inside `ownAccountScope`. */
export const sessionsRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/users/:userid/sessions/',
    {
      schema: {
        tags: ['sessions'],
        summary: "The account's live sessions, newest first",
        security: tokenSecurity,
        params: UserIdParams,
        querystring: SessionsQuery,
        response: {
          200: SessionsResponse,
          400: envelopeOf('`limit` or `before` is out of range', MESSAGES.invalidQuery),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const { limit = SESSION_PAGE.default, before } = request.query;
      const page = await listSessions(ctx, session.userId, { limit, before });
      const sessions = page.rows.map((s) => ({ ...sessionView(s), current: s.id === session.sessionId }));
      return { ...envelope(200, MESSAGES.sessions, sessions), next_before: page.next };
    },
  );

  app.delete(
    '/api/v1/users/:userid/sessions/:sessionid/',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End one session of the account',
        security: tokenSecurity,
        params: SessionParams,
        response: {
          200: envelopeOf('The session has ended', MESSAGES.sessionRevoked),
          ...authErrors,
          404: Type.Union([Detail, envelopeOf('Not a session of this account')], {
            description:
              '`{"detail":"Not found."}` for a user id that is not a positive integer; the envelope for a session that is not this account\'s',
            examples: [{ detail: SEED.notFoundDetail }, { status_code: 404, message: MESSAGES.notFound }],
          }),
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const sessionId = rowIdOf(request.params.sessionid);
      if (sessionId === undefined) throw new HttpRefusal('session_id_invalid');
      await revokeSession(ctx, session.userId, sessionId, clientOf(request, reply));
      securityEvent(request, 'session.revoke', { sessionId });
      return envelope(200, MESSAGES.sessionRevoked);
    },
  );

  app.post(
    '/api/v1/users/:userid/logout/all/',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End every session of the account, the current one included',
        security: tokenSecurity,
        params: UserIdParams,
        response: {
          200: envelopeOf('Every session has ended', MESSAGES.loggedOutEverywhere),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const ended = await revokeAllSessions(ctx, session.userId, clientOf(request, reply));
      securityEvent(request, 'logout.all', { ended });
      return envelope(200, MESSAGES.loggedOutEverywhere);
    },
  );
};
