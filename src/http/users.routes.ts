import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import { login } from '../accounts/login.js';
import { logout } from '../accounts/sessions.js';
import { signup } from '../accounts/signup.js';
import { envelope } from './error-mapper.js';
import { authOf } from './auth-guard.js';
import { clientOf } from './client.js';
import type { RouteLimits } from './rate-limits.js';
import { logRefusal, securityEvent } from './security-log.js';
import { MESSAGES, SEED } from './messages.js';
import { PASSWORD_MESSAGES } from '../accounts/password-policy.js';
import {
  authErrors,
  Credentials,
  envelopeOf,
  signedInOf,
  tokenSecurity,
  UserIdParams,
  UserResponse,
} from './schemas.js';

const SecondFactorRequired = Type.Object(
  {
    status_code: Type.Integer(),
    message: Type.String(),
    result: Type.Object({
      id: Type.Integer(),
      mfa_token: Type.String({
        description: 'ras_mfa_…: for /login/mfa/, 300 s, single use, 5 codes at most',
      }),
      methods: Type.Array(
        Type.Union([Type.Literal('totp'), Type.Literal('recovery_code'), Type.Literal('webauthn')]),
      ),
    }),
  },
  {
    title: 'SecondFactorRequired',
    examples: [
      {
        status_code: 200,
        message: MESSAGES.mfaRequired,
        result: { id: 1, mfa_token: 'ras_mfa_…', methods: ['totp', 'recovery_code'] },
      },
    ],
  },
);

/** The seed's two public routes: signup and login. */
export const signupLoginRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  app.post(
    '/api/v1/users/signup/',
    {
      config: limits.signup,
      schema: {
        tags: ['users'],
        summary: 'Create an account and its first session',
        body: Credentials,
        response: {
          201: signedInOf(201, 'The new account and the token of its first session', SEED.signedUp),
          400: envelopeOf(
            'The password is refused: too short, too long, too common, or based on the email',
            PASSWORD_MESSAGES.tooShort,
            PASSWORD_MESSAGES.tooCommon,
          ),
          401: envelopeOf('Invalid email, or email already taken', SEED.emailInvalid, SEED.emailTaken),
          429: envelopeOf(
            'Too many signups from this address (Retry-After says when to try again)',
            MESSAGES.rateLimited,
          ),
        },
      },
    },
    async (request, reply) => {
      const { user, token } = await signup(ctx, request.body, clientOf(request, reply));
      securityEvent(request, 'signup', { userId: user.id });
      return reply.code(201).send(envelope(201, SEED.signedUp, { ...user, auth_token: token }));
    },
  );

  app.post(
    '/api/v1/users/login/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['users'],
        summary: 'Open a new session with email and password',
        description: 'Every login opens a new session with its own token; earlier sessions stay valid.',
        body: Credentials,
        response: {
          200: Type.Union(
            [
              signedInOf(200, 'The account and the token of the new session', SEED.loggedIn),
              SecondFactorRequired,
            ],
            {
              description:
                'A new session; for an account with a second factor, a challenge instead (no session)',
            },
          ),
          400: envelopeOf('Wrong email or password (the same answer for both)', SEED.invalidCredentials),
          403: envelopeOf(
            'The email is not verified (only with REQUIRE_VERIFIED_EMAIL=on)',
            MESSAGES.emailUnverified,
          ),
          404: envelopeOf('The account is deactivated (told only with the right password)', SEED.deactivated),
          429: envelopeOf(
            'Too many failed attempts, attempts in progress, or requests (Retry-After says when to try again)',
            MESSAGES.throttled,
            MESSAGES.attemptsInProgress,
            MESSAGES.rateLimited,
          ),
        },
      },
    },
    async (request, reply) => {
      const outcome = await logRefusal(request, 'login', () =>
        login(ctx, request.body, clientOf(request, reply)),
      );
      if ('mfaToken' in outcome) {
        securityEvent(request, 'login.second_factor', { userId: outcome.user.id });
        return envelope(200, MESSAGES.mfaRequired, {
          id: outcome.user.id,
          mfa_token: outcome.mfaToken,
          methods: outcome.methods,
        });
      }
      securityEvent(request, 'login.success', { userId: outcome.user.id });
      return envelope(200, SEED.loggedIn, { ...outcome.user, auth_token: outcome.token });
    },
  );
};

/** The seed's two routes of the logged-in user: retrieve it, log out (inside `ownAccountScope`). */
export const userRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  app.get(
    '/api/v1/users/:userid/',
    {
      schema: {
        tags: ['users'],
        summary: 'The logged-in user',
        security: tokenSecurity,
        params: UserIdParams,
        response: { 200: UserResponse, ...authErrors },
      },
    },
    async (request) => {
      const { session, token } = authOf(request);
      return { id: session.userId, email: session.email, auth_token: token };
    },
  );

  app.post(
    '/api/v1/users/:userid/logout/',
    {
      config: { openBeforeVerification: true },
      schema: {
        tags: ['users'],
        summary: 'End the session of the presented token (only that one)',
        security: tokenSecurity,
        params: UserIdParams,
        response: { 200: envelopeOf('The session has ended', SEED.loggedOut), ...authErrors },
      },
    },
    async (request, reply) => {
      const { session, token } = authOf(request);
      // Ten concurrent logouts pass the guard together; only the one whose delete took the row answers 200.
      await logout(ctx, session, token, clientOf(request, reply));
      securityEvent(request, 'logout', { sessionId: session.sessionId });
      return envelope(200, SEED.loggedOut);
    },
  );
};
