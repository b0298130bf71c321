import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import { completeSecondFactor } from '../accounts/mfa-login.js';
import {
  confirmTotp,
  disableTotp,
  enrolTotp,
  renewRecoveryCodes,
  secondFactorStatus,
} from '../accounts/second-factor.js';
import { authOf } from './auth-guard.js';
import { clientOf } from './client.js';
import { envelope } from './error-mapper.js';
import { MESSAGES, SEED } from './messages.js';
import type { RouteLimits } from './rate-limits.js';
import {
  authErrors,
  DeactivateBody,
  envelopeOf,
  LenientString,
  signedInOf,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';
import { logRefusal, securityEvent } from './security-log.js';

const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), {
    description: 'Ten single-use codes, shown only now: each signs in once instead of a TOTP code',
  }),
});

const wrongPassword = envelopeOf('The password is wrong (counts as a failed login)', SEED.invalidCredentials);
const notConfigured = envelopeOf('MFA_KEY is not set on the server', MESSAGES.mfaNotConfigured);

/** The account's second factor: enrol, confirm, status, recovery codes, disable (inside `ownAccountScope`). */
export const secondFactorRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  app.post(
    '/api/v1/users/:userid/mfa/totp/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['second factor'],
        summary: 'Start TOTP enrolment: a new secret and its otpauth URL (nothing is active until confirmed)',
        security: tokenSecurity,
        params: UserIdParams,
        body: DeactivateBody,
        response: {
          200: Type.Object(
            {
              status_code: Type.Integer(),
              message: Type.String(),
              result: Type.Object({
                secret: Type.String({ description: 'Base32, for typing into an authenticator app' }),
                otpauth_url: Type.String({
                  description: 'otpauth://totp/… (SHA-1, 6 digits, 30 s): the QR code',
                }),
              }),
            },
            { title: 'TotpEnrolment' },
          ),
          400: Type.Union([wrongPassword, envelopeOf('Already enabled', MESSAGES.mfaAlreadyEnabled)], {
            description: 'The password is wrong, or a factor is already enabled',
          }),
          ...authErrors,
          503: notConfigured,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const enrolment = await logRefusal(request, 'mfa.enrol', () =>
        enrolTotp(ctx, session, request.body.password, clientOf(request, reply)),
      );
      securityEvent(request, 'mfa.enrol');
      return envelope(200, MESSAGES.mfaEnrol, {
        secret: enrolment.secret,
        otpauth_url: enrolment.otpauthUrl,
      });
    },
  );

  app.post(
    '/api/v1/users/:userid/mfa/totp/confirm/',
    {
      schema: {
        tags: ['second factor'],
        summary: 'Confirm the TOTP secret with a code from it: the factor is on; returns ten recovery codes',
        security: tokenSecurity,
        params: UserIdParams,
        body: Type.Object(
          {
            code: LenientString({ description: 'The 6-digit code the app shows now', examples: ['123456'] }),
          },
          { title: 'TotpCode', additionalProperties: true },
        ),
        response: {
          200: Type.Object({ status_code: Type.Integer(), message: Type.String(), result: RecoveryCodes }),
          400: envelopeOf('The code is wrong, or the factor is already on', MESSAGES.mfaCodeInvalid),
          ...authErrors,
          503: notConfigured,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const codes = await confirmTotp(ctx, session, request.body.code, clientOf(request, reply));
      securityEvent(request, 'mfa.enabled');
      return envelope(200, MESSAGES.mfaEnabled, { recovery_codes: codes });
    },
  );

  app.get(
    '/api/v1/users/:userid/mfa/',
    {
      schema: {
        tags: ['second factor'],
        summary: "The account's second factors",
        security: tokenSecurity,
        params: UserIdParams,
        response: {
          200: Type.Object({
            status_code: Type.Integer(),
            message: Type.String(),
            result: Type.Object({
              totp: Type.Boolean(),
              recovery_codes_left: Type.Integer(),
              passkeys: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  name: Type.String(),
                  created_at: Type.String({ format: 'date-time' }),
                  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                }),
              ),
            }),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      const status = await secondFactorStatus(ctx, session.userId);
      return envelope(200, MESSAGES.mfaStatus, {
        totp: status.totp,
        recovery_codes_left: status.recoveryCodesLeft,
        passkeys: status.passkeys.map((passkey) => ({
          id: passkey.id,
          name: passkey.name,
          created_at: new Date(passkey.createdAt).toISOString(),
          last_used_at: passkey.lastUsedAt === null ? null : new Date(passkey.lastUsedAt).toISOString(),
        })),
      });
    },
  );

  app.post(
    '/api/v1/users/:userid/mfa/recovery-codes/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['second factor'],
        summary: 'Ten new recovery codes; the old ones end',
        security: tokenSecurity,
        params: UserIdParams,
        body: DeactivateBody,
        response: {
          200: Type.Object({ status_code: Type.Integer(), message: Type.String(), result: RecoveryCodes }),
          400: Type.Union([wrongPassword, envelopeOf('No factor is enabled', MESSAGES.mfaNotEnabled)], {
            description: 'The password is wrong, or no factor is enabled',
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const codes = await logRefusal(request, 'mfa.recovery_codes', () =>
        renewRecoveryCodes(ctx, session, request.body.password, clientOf(request, reply)),
      );
      securityEvent(request, 'mfa.recovery_codes');
      return envelope(200, MESSAGES.mfaRecoveryCodes, { recovery_codes: codes });
    },
  );

  app.post(
    '/api/v1/users/:userid/mfa/totp/disable/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['second factor'],
        summary:
          'Turn TOTP off, with its recovery codes (the password and a current code, or a recovery code)',
        security: tokenSecurity,
        params: UserIdParams,
        body: Type.Object(
          {
            password: LenientString({ description: 'The account password' }),
            code: LenientString({ description: 'A current TOTP code, or a recovery code' }),
          },
          { title: 'TotpDisable', additionalProperties: true },
        ),
        response: {
          200: envelopeOf('The factor is off; the recovery codes end with it', MESSAGES.mfaDisabled),
          400: Type.Union([wrongPassword, envelopeOf('The code is wrong', MESSAGES.mfaCodeInvalid)], {
            description: 'The password or the code is wrong, or no factor is enabled',
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      await logRefusal(request, 'mfa.disable', () =>
        disableTotp(ctx, session, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'mfa.disabled');
      return envelope(200, MESSAGES.mfaDisabled);
    },
  );
};

/** The second step of a login with a second factor. */
export const secondFactorLoginRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  app.post(
    '/api/v1/users/login/mfa/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['users'],
        summary:
          'Complete a login with a second factor: the mfa_token and a TOTP code, a recovery code or a passkey',
        body: Type.Object(
          {
            mfa_token: LenientString({ description: 'From the login answer (`second factor required`)' }),
            code: Type.Optional(LenientString({ description: 'The 6-digit code the app shows now' })),
            recovery_code: Type.Optional(
              LenientString({ description: 'One of the recovery codes, instead' }),
            ),
            webauthn: Type.Optional(
              Type.Unknown({
                description:
                  'Or a passkey: the browser’s answer to the options of /login/mfa/options/ (`startAuthentication`)',
              }),
            ),
          },
          { title: 'SecondFactor', additionalProperties: true },
        ),
        response: {
          200: signedInOf(200, 'The account and the token of the new session', SEED.loggedIn),
          400: envelopeOf(
            'A wrong code (counts as a failed login), or an unknown, used, expired or exhausted (5 codes) mfa_token',
            MESSAGES.mfaCodeInvalid,
            MESSAGES.linkInvalid,
          ),
          429: envelopeOf(
            'Too many failed attempts on the account',
            MESSAGES.throttled,
            MESSAGES.attemptsInProgress,
          ),
        },
      },
    },
    async (request, reply) => {
      const { user, token } = await logRefusal(request, 'login.mfa', () =>
        completeSecondFactor(ctx, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'login.success', { userId: user.id, secondFactor: true });
      return envelope(200, SEED.loggedIn, { ...user, auth_token: token });
    },
  );
};
