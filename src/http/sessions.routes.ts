import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import { AccountError } from '../accounts/errors.js';
import { listSessions, revokeAllSessions, revokeSession } from '../accounts/sessions.js';
import type { SessionRecord } from '../accounts/storage.js';
import { authOf, positiveIntegerOf, requireOwnSession } from './auth-guard.js';
import { MESSAGES } from './messages.js';
import { securityEvent } from './security-log.js';
import {
  authErrors,
  Detail,
  envelopeOf,
  Envelope,
  MAX_ROW_ID,
  SessionParams,
  SessionsQuery,
  SessionsResponse,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';

/** The account's own sessions: list them, end one, end all (ASVS 7.5.2). */
export const sessionsRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  const ownSession = requireOwnSession(ctx);

  app.get(
    '/api/v1/users/:userid/sessions/',
    {
      ...ownSession,
      schema: {
        tags: ['sessions'],
        summary: "The account's live sessions, newest first",
        security: tokenSecurity,
        params: UserIdParams,
        querystring: SessionsQuery,
        response: { 200: SessionsResponse, 400: Envelope, ...authErrors },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const page = await listSessions(ctx, session.userId, request.query);
      return {
        status_code: 200,
        message: MESSAGES.sessions,
        result: page.sessions.map((s) => toSessionView(s, session.sessionId)),
        next_before: page.nextBefore,
      };
    },
  );

  app.delete(
    '/api/v1/users/:userid/sessions/:sessionid/',
    {
      ...ownSession,
      schema: {
        tags: ['sessions'],
        summary: 'End one session of the account',
        security: tokenSecurity,
        params: SessionParams,
        response: {
          200: Envelope,
          ...authErrors,
          404: Type.Union([Detail, envelopeOf('Not a session of this account')], {
            description:
              '`{"detail":"Not found."}` for a user id that is not a positive integer; the envelope for a session that is not this account\'s',
          }),
        },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const sessionId = positiveIntegerOf(request.params.sessionid);
      if (sessionId === undefined || sessionId > MAX_ROW_ID) throw new AccountError('session_not_found');
      await revokeSession(ctx, session.userId, sessionId);
      securityEvent(request, 'session.revoke', { sessionId });
      return { status_code: 200, message: MESSAGES.sessionRevoked };
    },
  );

  app.post(
    '/api/v1/users/:userid/logout/all/',
    {
      ...ownSession,
      schema: {
        tags: ['sessions'],
        summary: 'End every session of the account, the current one included',
        security: tokenSecurity,
        params: UserIdParams,
        response: { 200: Envelope, ...authErrors },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const ended = await revokeAllSessions(ctx, session.userId);
      securityEvent(request, 'logout.all', { ended });
      return { status_code: 200, message: MESSAGES.loggedOutEverywhere };
    },
  );
};

function toSessionView(s: SessionRecord, currentSessionId: number) {
  return {
    id: s.id,
    created_at: new Date(s.createdAt).toISOString(),
    expires_at: new Date(s.expiresAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    user_agent: s.userAgent,
    ip: s.ip,
    current: s.id === currentSessionId,
  };
}
