import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccountsContext } from '../accounts/context.js';
import { confirmPasswordReset, requestPasswordReset } from '../accounts/recovery.js';
import { verifyEmail } from '../accounts/verification.js';
import { clientOf } from './client.js';
import { envelope } from './error-mapper.js';
import { MESSAGES, SEED } from './messages.js';
import type { RouteLimits } from './rate-limits.js';
import { logRefusal, securityEvent } from './security-log.js';
import { envelopeOf, ResetConfirmBody, ResetRequestBody, VerifyEmailBody } from './schemas.js';
import { PASSWORD_MESSAGES } from '../accounts/password-policy.js';

/** Recovery by email, without a session: ask for a reset link, use it, follow a verification link. */
export const recoveryRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  app.post(
    '/api/v1/users/password/reset/',
    {
      config: limits.mail,
      schema: {
        tags: ['recovery'],
        summary: 'Mail a password reset link (the same answer, in the same time, whether the account exists)',
        body: ResetRequestBody,
        response: {
          200: envelopeOf('The same answer whether the account exists', MESSAGES.resetRequested),
          400: envelopeOf('Not a valid email address', SEED.emailInvalid),
          429: envelopeOf('Too many requests from this address', MESSAGES.rateLimited),
          503: envelopeOf('Email delivery is not configured', MESSAGES.mailNotConfigured),
        },
      },
    },
    async (request) => {
      // One row queued, whatever the address: the deliverer decides later whether a mail goes.
      await requestPasswordReset(ctx, request.body);
      securityEvent(request, 'password.reset.request');
      return envelope(200, MESSAGES.resetRequested);
    },
  );

  app.post(
    '/api/v1/users/password/reset/confirm/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['recovery'],
        summary: 'Set a new password with a reset link: every session ends',
        body: ResetConfirmBody,
        response: {
          200: envelopeOf('The password is set; every session has ended', MESSAGES.passwordReset),
          400: envelopeOf(
            'The link is invalid, used or expired, or the new password is refused',
            MESSAGES.linkInvalid,
            PASSWORD_MESSAGES.tooShort,
          ),
          429: envelopeOf('Too many attempts from this address', MESSAGES.rateLimited),
        },
      },
    },
    async (request, reply) => {
      await logRefusal(request, 'password.reset', () =>
        confirmPasswordReset(ctx, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'password.reset');
      return envelope(200, MESSAGES.passwordReset);
    },
  );

  app.post(
    '/api/v1/users/email/verify/',
    {
      schema: {
        tags: ['recovery'],
        summary: 'Follow a verification (or email change) link',
        body: VerifyEmailBody,
        response: {
          200: envelopeOf('The address is verified (or changed)', MESSAGES.emailVerified),
          400: envelopeOf('The link is invalid, used or expired', MESSAGES.linkInvalid),
        },
      },
    },
    async (request, reply) => {
      await logRefusal(request, 'email.verify', () =>
        verifyEmail(ctx, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'email.verify');
      return envelope(200, MESSAGES.emailVerified);
    },
  );
};
