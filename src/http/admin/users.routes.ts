import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { AccountsContext } from '../../accounts/context.js';
import { deleteAccount } from '../../accounts/deletion.js';
import { AccountError } from '../../accounts/errors.js';
import { EVENT_TYPES, eventView, listEvents } from '../../accounts/events.js';
import {
  createAccount,
  operatorView,
  searchAccounts,
  updateAccount,
  USER_PAGE,
} from '../../accounts/operator.js';
import { setPassword } from '../../accounts/recovery.js';
import { resetSecondFactor } from '../../accounts/second-factor.js';
import { allSessions, revokeAllSessions, sessionView } from '../../accounts/sessions.js';
import type { UserRecord } from '../../accounts/storage.js';
import { envelope } from '../error-mapper.js';
import { EventItem } from '../events.routes.js';
import { MESSAGES, SEED } from '../messages.js';
import { rowIdOf } from '../path-ids.js';
import { envelopeOf, LenientString, MAX_ROW_ID } from '../schemas.js';
import { adminClient, ADMIN_MESSAGES } from './admin-auth.js';

const security = [{ adminKey: [] }];

const UserItem = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    is_active: Type.Boolean(),
    email_verified: Type.Boolean(),
    date_joined: Type.String({ format: 'date-time' }),
    last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    mfa: Type.Boolean({ description: 'A second factor (TOTP or a passkey) is enabled' }),
  },
  { title: 'AdminUser' },
);

const UserIdParams = Type.Object({ id: Type.String({ description: "The account's id" }) });

const authAnswers = (scope: string): Record<number, TSchema> => ({
  401: envelopeOf('No admin key, or an unknown or revoked one', ADMIN_MESSAGES.unauthorized),
  403: envelopeOf('The key lacks the route’s scope', ADMIN_MESSAGES.forbidden(scope)),
});
const notFound = envelopeOf('No such account', MESSAGES.notFound);
const userAnswer = Type.Object({ status_code: Type.Integer(), message: Type.String(), result: UserItem });

/** The operator's routes on the admin listener: users, their sessions and second factor, and events. */
export const adminRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  const userOf = async (id: string): Promise<UserRecord> => {
    const userId = rowIdOf(id);
    const user = userId === undefined ? undefined : await ctx.store.users.findUserById(userId);
    if (!user) throw new AccountError('session_not_found');
    return user;
  };

  app.get(
    '/admin/v1/users/',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'Find users: by exact email, by email prefix, or all of them page by page (by id)',
        security,
        querystring: Type.Object({
          email: Type.Optional(Type.String({ maxLength: 254, description: 'Exact (any case)' })),
          email_prefix: Type.Optional(
            Type.String({ minLength: 1, maxLength: 254, description: 'Starts with (any case)' }),
          ),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: USER_PAGE.max, default: USER_PAGE.default }),
          ),
          after: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: MAX_ROW_ID,
              description: 'The `next_after` of the previous page',
            }),
          ),
        }),
        response: {
          200: Type.Object(
            {
              status_code: Type.Integer(),
              message: Type.String(),
              result: Type.Array(UserItem),
              next_after: Type.Union([Type.Integer(), Type.Null()]),
            },
            { title: 'AdminUserPage' },
          ),
          400: envelopeOf('A query parameter is out of range', MESSAGES.invalidQuery),
          ...authAnswers('users:read'),
        },
      },
    },
    async (request) => {
      const { email, email_prefix: prefix, limit = USER_PAGE.default, after } = request.query;
      const page = await searchAccounts(ctx, {
        email: email?.trim().toLowerCase(),
        emailPrefix: prefix?.trim().toLowerCase(),
        after,
        limit,
      });
      return { ...envelope(200, 'users', page.rows.map(operatorView)), next_after: page.next };
    },
  );

  app.get(
    '/admin/v1/users/:id/',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'One user',
        security,
        params: UserIdParams,
        response: { 200: userAnswer, 404: notFound, ...authAnswers('users:read') },
      },
    },
    async (request) => envelope(200, 'user', operatorView(await userOf(request.params.id))),
  );

  app.post(
    '/admin/v1/users/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (no session); without a password it can sign in only after a reset',
        security,
        body: Type.Object(
          {
            email: LenientString({ description: 'Email address' }),
            password: Type.Optional(LenientString({ description: 'The signup policy applies' })),
            email_verified: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: true },
        ),
        response: {
          201: userAnswer,
          400: envelopeOf('The email is invalid, or the password is refused', SEED.emailInvalid),
          409: envelopeOf('The email is taken', SEED.emailTaken),
          ...authAnswers('users:write'),
        },
      },
    },
    async (request, reply) => {
      const user = await createAccount(ctx, request.body, adminClient(request));
      return reply.code(201).send(envelope(201, 'user created', operatorView(user)));
    },
  );

  app.patch(
    '/admin/v1/users/:id/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Change is_active, email or email_verified (each the same change, and event, as elsewhere)',
        security,
        params: UserIdParams,
        body: Type.Object(
          {
            is_active: Type.Optional(Type.Boolean({ description: 'false ends every session' })),
            email: Type.Optional(LenientString({ description: 'The new (verified) address; links end' })),
            email_verified: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: userAnswer,
          400: envelopeOf('The email is invalid', SEED.emailInvalid),
          404: notFound,
          409: envelopeOf('The email is taken', SEED.emailTaken),
          ...authAnswers('users:write'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      return envelope(
        200,
        'user updated',
        operatorView(await updateAccount(ctx, user, request.body, adminClient(request))),
      );
    },
  );

  app.post(
    '/admin/v1/users/:id/password/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Set the password (the policy applies): every session and outstanding link ends',
        security,
        params: UserIdParams,
        body: Type.Object(
          { password: LenientString({ description: 'The new password' }) },
          { additionalProperties: true },
        ),
        response: {
          200: envelopeOf('Set', 'password set'),
          400: envelopeOf('The password is refused', 'password must be at least 8 characters'),
          404: notFound,
          ...authAnswers('users:write'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      if (typeof request.body.password !== 'string')
        throw new AccountError('password_refused', { reason: 'password must be a string' });
      await setPassword(ctx, user, request.body.password, adminClient(request));
      return envelope(200, 'password set');
    },
  );

  app.delete(
    '/admin/v1/users/:id/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Delete the user, its sessions and tokens (the email is free again)',
        security,
        params: UserIdParams,
        response: {
          200: envelopeOf('Deleted', 'user deleted'),
          404: notFound,
          ...authAnswers('users:write'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      if (!(await deleteAccount(ctx, user, adminClient(request))))
        throw new AccountError('session_not_found');
      return envelope(200, 'user deleted');
    },
  );

  app.get(
    '/admin/v1/users/:id/sessions/',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['sessions'],
        summary: "The user's live sessions, newest first (never a token)",
        security,
        params: UserIdParams,
        response: {
          200: Type.Object({
            status_code: Type.Integer(),
            message: Type.String(),
            result: Type.Array(
              Type.Object({
                id: Type.Integer(),
                created_at: Type.String(),
                expires_at: Type.String(),
                last_seen_at: Type.String(),
                user_agent: Type.Union([Type.String(), Type.Null()]),
                ip: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
          404: notFound,
          ...authAnswers('users:read'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      return envelope(200, MESSAGES.sessions, (await allSessions(ctx, user.id)).map(sessionView));
    },
  );

  app.delete(
    '/admin/v1/users/:id/sessions/',
    {
      config: { scope: 'sessions:write' },
      schema: {
        tags: ['sessions'],
        summary: 'End every session of the user (it can sign in again)',
        security,
        params: UserIdParams,
        response: {
          200: envelopeOf('Ended', MESSAGES.loggedOutEverywhere),
          404: notFound,
          ...authAnswers('sessions:write'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      await revokeAllSessions(ctx, user.id, adminClient(request));
      return envelope(200, MESSAGES.loggedOutEverywhere);
    },
  );

  app.post(
    '/admin/v1/users/:id/mfa/reset/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary:
          'Remove every second factor (TOTP, recovery codes, passkeys) of a user who lost them; they are told by mail',
        security,
        params: UserIdParams,
        response: {
          200: envelopeOf('Removed (or there was none)', MESSAGES.mfaDisabled, MESSAGES.mfaNotEnabled),
          404: notFound,
          ...authAnswers('users:write'),
        },
      },
    },
    async (request) => {
      const user = await userOf(request.params.id);
      const removed = await resetSecondFactor(ctx, user, adminClient(request));
      return envelope(200, removed ? MESSAGES.mfaDisabled : MESSAGES.mfaNotEnabled);
    },
  );

  app.get(
    '/admin/v1/events/',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'The audit log, oldest first, filtered by user and type, page by page',
        security,
        querystring: Type.Object({
          user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ROW_ID })),
          type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
          after: Type.Optional(
            Type.String({
              pattern: '^evt_[A-Za-z0-9_-]{22}$',
              description: 'The `next_after` of the previous page',
            }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            status_code: Type.Integer(),
            message: Type.String(),
            result: Type.Array(EventItem),
            next_after: Type.Union([Type.String(), Type.Null()]),
          }),
          400: envelopeOf('A query parameter is out of range', MESSAGES.invalidQuery),
          ...authAnswers('events:read'),
        },
      },
    },
    async (request) => {
      const { user_id: userId, type, after, limit = 100 } = request.query;
      const page = await listEvents(ctx, { userId, type, after, limit }, 1000);
      return { ...envelope(200, MESSAGES.events, page.rows.map(eventView)), next_after: page.next };
    },
  );
};
