import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountsContext } from '../accounts/context.js';
import { AccountError } from '../accounts/errors.js';
import { passwordlessOptions, loginWithPasskey } from '../accounts/passkey-login.js';
import { addPasskey, passkeyRegistrationOptions, removePasskey } from '../accounts/passkeys.js';
import { secondFactorPasskeyOptions } from '../accounts/mfa-login.js';
import { authOf } from './auth-guard.js';
import { clientOf } from './client.js';
import { envelope } from './error-mapper.js';
import { MESSAGES, SEED } from './messages.js';
import { rowIdOf } from './path-ids.js';
import type { RouteLimits } from './rate-limits.js';
import {
  authErrors,
  Detail,
  envelopeOf,
  LenientString,
  signedInOf,
  tokenSecurity,
  UserIdParams,
} from './schemas.js';
import { logRefusal, securityEvent } from './security-log.js';

/** WebAuthn options, as `@simplewebauthn/browser` takes them (the WebAuthn Level 3 JSON encoding). */
function optionsOf(title: string, description: string) {
  return Type.Object(
    {
      status_code: Type.Integer(),
      message: Type.String(),
      result: Type.Object(
        {
          challenge: Type.String({ description: 'base64url; single use, 300 s' }),
          timeout: Type.Optional(Type.Integer()),
        },
        { title, description, additionalProperties: true },
      ),
    },
    { title: `${title}Answer` },
  );
}

const CeremonyResponse = Type.Unknown({
  description:
    'The browser’s answer as `@simplewebauthn/browser` returns it (`startRegistration` / `startAuthentication`)',
});

const Passkey = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Passkey' },
);

const PasskeyParams = Type.Object({
  userid: Type.String({ description: "The account's numeric id" }),
  passkeyid: Type.String({ description: 'The passkey id, from `GET …/mfa/`' }),
});

const invalid = envelopeOf(
  'The response does not verify: unknown, used or expired challenge, another origin, no user verification, a signature that does not match, or a signature counter that went backwards',
  MESSAGES.passkeyInvalid,
);

/** The account's passkeys: register (options, then the response) and remove (inside `ownAccountScope`). */
export const passkeyRoutes: FastifyPluginAsyncTypebox<{ ctx: AccountsContext }> = async (app, { ctx }) => {
  app.post(
    '/api/v1/users/:userid/passkeys/options/',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Registration options for a new passkey (for navigator.credentials.create)',
        security: tokenSecurity,
        params: UserIdParams,
        response: {
          200: optionsOf('PasskeyCreationOptions', 'PublicKeyCredentialCreationOptionsJSON'),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { session } = authOf(request);
      return envelope(200, MESSAGES.passkeyOptions, await passkeyRegistrationOptions(ctx, session));
    },
  );

  app.post(
    '/api/v1/users/:userid/passkeys/',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Register the passkey: the browser’s response to the registration options',
        security: tokenSecurity,
        params: UserIdParams,
        body: Type.Object(
          {
            name: Type.Optional(LenientString({ description: 'Up to 100 characters; default "Passkey"' })),
            response: CeremonyResponse,
          },
          { title: 'NewPasskey', additionalProperties: true },
        ),
        response: {
          201: Type.Object({ status_code: Type.Integer(), message: Type.String(), result: Passkey }),
          400: Type.Union(
            [
              invalid,
              envelopeOf('Registered already', MESSAGES.passkeyExists),
              envelopeOf('The name is too long', MESSAGES.passkeyNameInvalid),
            ],
            { description: 'The response does not verify, the passkey is registered, or the name is bad' },
          ),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const passkey = await logRefusal(request, 'passkey.add', () =>
        addPasskey(ctx, session, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'passkey.added', { passkeyId: passkey.id });
      return reply.code(201).send(
        envelope(201, MESSAGES.passkeyAdded, {
          id: passkey.id,
          name: passkey.name,
          created_at: new Date(passkey.createdAt).toISOString(),
        }),
      );
    },
  );

  app.delete(
    '/api/v1/users/:userid/passkeys/:passkeyid/',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Remove a passkey: it signs in nowhere from now on',
        security: tokenSecurity,
        params: PasskeyParams,
        response: {
          200: envelopeOf('Removed', MESSAGES.passkeyRemoved),
          ...authErrors,
          404: Type.Union([Detail, envelopeOf('No such passkey on this account')], {
            description:
              '`{"detail":"Not found."}` for a user id that is not a positive integer; the envelope for a passkey that is not this account\'s',
            examples: [
              { detail: SEED.notFoundDetail },
              { status_code: 404, message: MESSAGES.passkeyNotFound },
            ],
          }),
        },
      },
    },
    async (request, reply) => {
      const { session } = authOf(request);
      const passkeyId = rowIdOf(request.params.passkeyid);
      if (passkeyId === undefined) throw new AccountError('passkey_not_found');
      await removePasskey(ctx, session, passkeyId, clientOf(request, reply));
      securityEvent(request, 'passkey.removed', { passkeyId });
      return envelope(200, MESSAGES.passkeyRemoved);
    },
  );
};

const requestOptions = optionsOf('PasskeyRequestOptions', 'PublicKeyCredentialRequestOptionsJSON');

/** Signing in with a passkey: alone, or as the second step of a password login. */
export const passkeyLoginRoutes: FastifyPluginAsyncTypebox<{
  ctx: AccountsContext;
  limits: RouteLimits;
}> = async (app, { ctx, limits }) => {
  app.post(
    '/api/v1/users/login/passkey/options/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['users'],
        summary: 'Options for a passwordless login (discoverable credentials: no email is asked)',
        body: Type.Optional(Type.Object({}, { title: 'PasskeyLoginOptions', additionalProperties: true })),
        response: { 200: requestOptions },
      },
    },
    async () => envelope(200, MESSAGES.passkeyOptions, await passwordlessOptions(ctx)),
  );

  app.post(
    '/api/v1/users/login/passkey/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['users'],
        summary: 'Log in with a passkey alone: the answer of a login, a new session',
        body: Type.Object(
          { response: CeremonyResponse },
          { title: 'PasskeyLogin', additionalProperties: true },
        ),
        response: {
          200: signedInOf(200, 'The account and the token of the new session', SEED.loggedIn),
          400: invalid,
          403: envelopeOf(
            'The email is not verified (only with REQUIRE_VERIFIED_EMAIL=on)',
            MESSAGES.emailUnverified,
          ),
          404: envelopeOf('The account is deactivated', SEED.deactivated),
        },
      },
    },
    async (request, reply) => {
      const { user, token } = await logRefusal(request, 'login.passkey', () =>
        loginWithPasskey(ctx, request.body, clientOf(request, reply)),
      );
      securityEvent(request, 'login.success', { userId: user.id, passkey: true });
      return envelope(200, SEED.loggedIn, { ...user, auth_token: token });
    },
  );

  app.post(
    '/api/v1/users/login/mfa/options/',
    {
      config: limits.passwordCheck,
      schema: {
        tags: ['users'],
        summary: 'Options for completing a login with a passkey (the second step)',
        body: Type.Object(
          { mfa_token: LenientString({ description: 'From the login answer (`second factor required`)' }) },
          { title: 'SecondFactorOptions', additionalProperties: true },
        ),
        response: {
          200: requestOptions,
          400: envelopeOf('An unknown, used, expired or exhausted mfa_token', MESSAGES.linkInvalid),
          404: envelopeOf('The account has no passkey', MESSAGES.passkeyNotFound),
        },
      },
    },
    async (request) =>
      envelope(200, MESSAGES.passkeyOptions, await secondFactorPasskeyOptions(ctx, request.body)),
  );
};
