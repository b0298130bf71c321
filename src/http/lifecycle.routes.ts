import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccountsContext } from '../accounts/context.js';
import { deleteOwnAccount } from '../accounts/deletion.js';
import { accountOf, requestEmailChange, resendVerification } from '../accounts/verification.js';
import { authOf } from './auth-guard.js';
import { clientOf } from './client.js';
import { envelope } from './error-mapper.js';
import { MESSAGES, SEED } from './messages.js';
import type { RouteLimits } from './rate-limits.js';
import { logRefusal, securityEvent } from './security-log.js';
import {
  AccountResponse,
  authErrors,
  DeactivateBody,
  EmailChangeBody,
  envelopeOf,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** The account's lifecycle, for its owner (inside `ownAccountScope`): view, verify, change the email, delete. */
export const lifecycleRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  const { passwordCheck: passwordChecking, mail: mailing } = limits;
  // With REQUIRE_VERIFIED_EMAIL, what an unverified account may still do: see itself, ask for a new link, leave.
  const open = { openBeforeVerification: true };

  app.get(
    '/api/v1/users/:userid/account/',
    {
      config: open,
      schema: {
        tags: ['account'],
        summary: 'The account: email, whether it is verified, when it joined, when its password changed',
        security: tokenSecurity,
        params: UserIdParams,
        response: { 200: AccountResponse, ...authErrors },
      },
    },
    async (request) => {
      const user = await accountOf(ctx, authOf(request).session.userId);
      return envelope(200, MESSAGES.account, {
        id: user.id,
        email: user.email,
        email_verified: user.emailVerified,
        date_joined: iso(user.dateJoined),
        password_changed_at: user.passwordChangedAt === null ? null : iso(user.passwordChangedAt),
      });
    },
  );

  app.post(
    '/api/v1/users/:userid/email/verify/resend/',
    {
      config: { ...mailing, ...open },
      schema: {
        tags: ['account'],
        summary: 'Mail a new verification link',
        security: tokenSecurity,
        params: UserIdParams,
        response: { 200: envelopeOf('A new link is on its way', MESSAGES.verificationSent), ...authErrors },
      },
    },
    async (request) => {
      await resendVerification(ctx, authOf(request).session);
      securityEvent(request, 'email.verify.resend');
      return envelope(200, MESSAGES.verificationSent);
    },
  );

  app.post(
    '/api/v1/users/:userid/email/',
    {
      config: mailing,
      schema: {
        tags: ['account'],
        summary:
          'Change the email: a confirmation link goes to the new address (a notice instead, if it has an account)',
        security: tokenSecurity,
        params: UserIdParams,
        body: EmailChangeBody,
        response: {
          200: envelopeOf('A confirmation link has been mailed to the new address', MESSAGES.emailChangeSent),
          400: envelopeOf('The password is wrong', SEED.invalidCredentials),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      await logRefusal(request, 'email.change', () =>
        requestEmailChange(ctx, session, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'email.change.request');
      return envelope(200, MESSAGES.emailChangeSent);
    },
  );

  app.post(
    '/api/v1/users/:userid/delete/',
    {
      config: { ...passwordChecking, ...open },
      schema: {
        tags: ['account'],
        summary: 'Delete the account, its sessions and tokens; the email is free again',
        security: tokenSecurity,
        params: UserIdParams,
        body: DeactivateBody,
        response: {
          200: envelopeOf('The account is deleted', MESSAGES.accountDeleted),
          400: envelopeOf('The password is wrong', SEED.invalidCredentials),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      await logRefusal(request, 'delete', () =>
        deleteOwnAccount(ctx, session, request.body.password, clientOf(request, reply)),
      );
      securityEvent(request, 'delete');
      return envelope(200, MESSAGES.accountDeleted);
    },
  );
};
