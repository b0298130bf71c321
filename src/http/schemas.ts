import { type TSchema, Type } from '@sinclair/typebox';
import { MESSAGES, SEED } from './messages.js';

/**
 * Request and response schemas. Fastify validates and serializes with them and @fastify/swagger documents
 * them, so a route's contract is written once. Credentials are declared without a type on purpose: a
 * non-string email must reach the handler to get the seed's 401, not a generic validation 400.
 */
/** The mark of a lenient field: the type the OpenAPI document gives it. */
export const LENIENT = 'x-lenient-type';

/**
 * A field the handler validates itself, so that a wrong type gets the contract's own answer (a non-string email
 * at signup is the seed's 401, not a schema 400): no type for validation, documented as a string (openapi.ts
 * reads the mark).
 */
export function LenientString(options: { description: string; examples?: string[] }) {
  return Type.Unknown({ ...options, [LENIENT]: 'string' });
}

export const Credentials = Type.Object(
  {
    email: LenientString({ description: 'Email address', examples: ['user@user.com'] }),
    password: LenientString({
      description: 'Password (8 to 1024 characters)',
      examples: ['correct horse battery'],
    }),
  },
  { title: 'Credentials', additionalProperties: true },
);

export const UserIdParams = Type.Object({
  userid: Type.String({ description: "The account's numeric id" }),
});

/*
 * A `title` names a schema in the OpenAPI document (`components.schemas`, see openapi.ts). `examples` beside a
 * response are the messages Ras really sends there: a string is an envelope's message, its status_code is the
 * response's status; an object is an example body as it is.
 */
type Examples = (string | Record<string, unknown>)[];

/** The shape of a real token (`ras_` + 43 base64url characters), for examples only. */
const EXAMPLE_TOKEN = 'ras_3q2Xk9vWcP0dYhL7mN4bR8tF1sJ6eA5uZ0wQyTgHiKx';

/** `{"status_code": N, "message": "..."}`: the seed's envelope, used by every error Ras adds too. */
export function envelopeOf(description: string, ...examples: Examples) {
  return Type.Object(
    { status_code: Type.Integer(), message: Type.String() },
    { title: 'Envelope', description, examples },
  );
}

export const Envelope = envelopeOf('Status and message');

/** DRF's own error body, which the seed's authentication and permission errors use. */
export function errorOf(description: string, ...examples: Examples) {
  return Type.Object({ detail: Type.String() }, { title: 'Error', description, examples });
}

export const Detail = errorOf('An error in the shape of Django REST Framework');
export const MessageOnly = Type.Object({ message: Type.String() }, { title: 'InvalidToken' });

const AuthResult = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    auth_token: Type.String({ description: 'Send as `Authorization: Token <auth_token>`' }),
  },
  { title: 'User' },
);

export function signedInOf(status: 200 | 201, description: string, message: string) {
  return Type.Object(
    { status_code: Type.Integer(), message: Type.String(), result: AuthResult },
    {
      title: 'SignedIn',
      description,
      examples: [
        {
          status_code: status,
          message,
          result: { id: 1, email: 'user@user.com', auth_token: EXAMPLE_TOKEN },
        },
      ],
    },
  );
}

export const UserResponse = Type.Object(AuthResult.properties, {
  title: 'User',
  description: 'The logged-in user and the token that asked',
  examples: [{ id: 1, email: 'user@user.com', auth_token: EXAMPLE_TOKEN }],
});

/** The 401/403/404 answers every authenticated route gives, as the seed's DRF service gave them. */
export const authErrors: Record<number, TSchema> = {
  401: Type.Union([Detail, MessageOnly], {
    description:
      'No credentials (`detail`), or an unknown, expired or revoked token (`message: Invalid Token`)',
    examples: [{ detail: SEED.credentialsMissing }, { message: SEED.invalidToken }],
  }),
  403: Type.Union([Detail, Envelope], {
    description:
      'A valid token for another account, or an unknown id (`detail`); with REQUIRE_VERIFIED_EMAIL=on, an account whose address is not verified yet (the envelope)',
    examples: [{ detail: SEED.permissionDenied }, { status_code: 403, message: MESSAGES.emailUnverified }],
  }),
  404: Type.Union([Detail, Envelope], {
    description: 'The user id is not a positive integer',
    examples: [{ detail: SEED.notFoundDetail }],
  }),
  503: envelopeOf('The database is unavailable', MESSAGES.unavailable),
};

/** Either scheme opens a token route: `Bearer` (the docs page's) or the seed's `Token` (alternatives). */
export const tokenSecurity: Record<string, string[]>[] = [{ token: [] }, { tokenAuth: [] }];

export const SessionParams = Type.Object({
  userid: Type.String({ description: "The account's numeric id" }),
  sessionid: Type.String({ description: 'The session id, from the session list' }),
});

const SessionItem = Type.Object(
  {
    id: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    last_seen_at: Type.String({ format: 'date-time', description: 'Refreshed at most once an hour' }),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean({ description: 'True for the session of the token that asked' }),
  },
  { title: 'Session' },
);

/**
 * Largest id Ras has: ids are 64-bit in the database, but a JSON number carries integers exactly only up to
 * 2^53−1, so no id above is ever stored (the import refuses it); anything above cannot exist and must not reach SQL.
 */
export const MAX_ROW_ID = Number.MAX_SAFE_INTEGER;

export const SessionsQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Sessions per page' }),
  ),
  before: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_ROW_ID,
      description: 'Only sessions with a smaller id: the `next_before` of the previous page',
    }),
  ),
});

export const SessionsResponse = Type.Object(
  {
    status_code: Type.Integer(),
    message: Type.String(),
    result: Type.Array(SessionItem, {
      description: 'Live sessions, newest first; never a token or its hash',
    }),
    next_before: Type.Union([Type.Integer(), Type.Null()], {
      description: 'Pass as `?before=` for the next page; null on the last page',
    }),
  },
  { title: 'SessionPage' },
);

export const PasswordChangeBody = Type.Object(
  {
    current_password: LenientString({ description: 'The password now' }),
    new_password: LenientString({ description: 'The new password; the signup policy applies' }),
  },
  { title: 'PasswordChange', additionalProperties: true },
);

export const PasswordChangedResponse = Type.Object(
  {
    status_code: Type.Integer(),
    message: Type.String(),
    result: Type.Object({ auth_token: Type.String({ description: 'The token of the new session' }) }),
  },
  {
    title: 'PasswordChanged',
    examples: [
      { status_code: 200, message: MESSAGES.passwordChanged, result: { auth_token: EXAMPLE_TOKEN } },
    ],
  },
);

export const DeactivateBody = Type.Object(
  { password: LenientString({ description: 'The account password' }) },
  { title: 'PasswordConfirmation', additionalProperties: true },
);

export const ResetRequestBody = Type.Object(
  { email: LenientString({ description: 'The account email', examples: ['user@user.com'] }) },
  { title: 'ResetRequest', additionalProperties: true },
);

export const ResetConfirmBody = Type.Object(
  {
    token: LenientString({ description: 'The token of the reset link (`ras_reset_…`)' }),
    new_password: LenientString({ description: 'The new password; the signup policy applies' }),
  },
  { title: 'ResetConfirmation', additionalProperties: true },
);

export const VerifyEmailBody = Type.Object(
  { token: LenientString({ description: 'The token of the verification link (`ras_verify_…`)' }) },
  { title: 'EmailVerification', additionalProperties: true },
);

export const EmailChangeBody = Type.Object(
  {
    password: LenientString({ description: 'The account password' }),
    new_email: LenientString({ description: 'The new address' }),
  },
  { title: 'EmailChange', additionalProperties: true },
);

export const AccountResponse = Type.Object(
  {
    status_code: Type.Integer(),
    message: Type.String(),
    result: Type.Object(
      {
        id: Type.Integer(),
        email: Type.String(),
        email_verified: Type.Boolean(),
        date_joined: Type.String({ format: 'date-time' }),
        password_changed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      },
      { title: 'Account' },
    ),
  },
  { title: 'AccountAnswer' },
);
