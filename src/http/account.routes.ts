import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccountsContext } from '../accounts/context.js';
import { deactivateOwnAccount } from '../accounts/deactivation.js';
import { changePassword } from '../accounts/password-change.js';
import { envelope } from './error-mapper.js';
import { authOf } from './auth-guard.js';
import { clientOf } from './client.js';
import type { RouteLimits } from './rate-limits.js';
import { logRefusal, securityEvent } from './security-log.js';
import { MESSAGES, SEED } from './messages.js';
import { PASSWORD_MESSAGES } from '../accounts/password-policy.js';
import {
  authErrors,
  DeactivateBody,
  envelopeOf,
  PasswordChangeBody,
  PasswordChangedResponse,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';

/** The owner's own account: change the password, deactivate (inside `ownAccountScope`). Both ask for the password again. */
export const accountRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  // A password check costs a hash: limited per address like login, valid token or not (the global limit
  // exempts authenticated requests), so one stolen token cannot fill the hash queue.
  const config = limits.passwordCheck;

  app.post(
    '/api/v1/users/:userid/password/',
    {
      config,
      schema: {
        tags: ['account'],
        summary: 'Change the password; every session ends and a new one is returned',
        security: tokenSecurity,
        params: UserIdParams,
        body: PasswordChangeBody,
        response: {
          200: PasswordChangedResponse,
          400: envelopeOf(
            'The current password is wrong, or the new one is refused',
            SEED.invalidCredentials,
            PASSWORD_MESSAGES.tooCommon,
          ),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const token = await logRefusal(request, 'password.change', () =>
        changePassword(ctx, session, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'password.change');
      return envelope(200, MESSAGES.passwordChanged, { auth_token: token });
    },
  );

  app.post(
    '/api/v1/users/:userid/deactivate/',
    {
      config,
      schema: {
        tags: ['account'],
        summary: 'Deactivate the account (login then answers 404); every session ends',
        security: tokenSecurity,
        params: UserIdParams,
        body: DeactivateBody,
        response: {
          200: envelopeOf('The account is deactivated', SEED.deactivated),
          400: envelopeOf('The password is wrong', SEED.invalidCredentials),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      await logRefusal(request, 'deactivate', () =>
        deactivateOwnAccount(ctx, session, request.body.password, clientOf(request, reply)),
      );
      securityEvent(request, 'deactivate');
      return envelope(200, SEED.deactivated);
    },
  );
};
