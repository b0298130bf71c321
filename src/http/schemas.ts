import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Request and response schemas. Fastify validates and serializes with them and @fastify/swagger documents
 * them, so a route's contract is written once. Credentials are declared without a type on purpose: a
 * non-string email must reach the handler to get the seed's 401, not a generic validation 400.
 */
export const Credentials = Type.Object(
  {
    email: Type.Unknown({ description: 'Email address (string)', examples: ['user@user.com'] }),
    password: Type.Unknown({
      description: 'Password (string, 8 to 1024 characters)',
      examples: ['correct horse battery'],
    }),
  },
  { additionalProperties: true },
);

export const UserIdParams = Type.Object({
  userid: Type.String({ description: "The account's numeric id" }),
});

/** `{"status_code": N, "message": "..."}`: the seed's envelope, used by every error Ras adds too. */
export function envelopeOf(description: string) {
  return Type.Object({ status_code: Type.Integer(), message: Type.String() }, { description });
}

export const Envelope = envelopeOf('Status and message');

export const Detail = Type.Object({ detail: Type.String() });
export const MessageOnly = Type.Object({ message: Type.String() });

const AuthResult = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  auth_token: Type.String({ description: 'Send as `Authorization: Token <auth_token>`' }),
});

export const SignedInResponse = Type.Object({
  status_code: Type.Integer(),
  message: Type.String(),
  result: AuthResult,
});

export const UserResponse = AuthResult;

/** The 401/403/404 answers every authenticated route gives, as the seed's DRF service gave them. */
export const authErrors: Record<number, TSchema> = {
  401: Type.Union([Detail, MessageOnly], {
    description:
      'No credentials (`detail`), or an unknown, expired or revoked token (`message: Invalid Token`)',
  }),
  403: Type.Object(
    { detail: Type.String() },
    { description: 'A valid token for another account, or an unknown id' },
  ),
  404: Type.Union([Detail, Envelope], { description: 'The user id is not a positive integer' }),
  503: Envelope,
};

export const tokenSecurity = [{ token: [] }];

export const SessionParams = Type.Object({
  userid: Type.String({ description: "The account's numeric id" }),
  sessionid: Type.String({ description: 'The session id, from the session list' }),
});

const SessionItem = Type.Object({
  id: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.String({ format: 'date-time', description: 'Refreshed at most once an hour' }),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'True for the session of the token that asked' }),
});

/** Largest id an INTEGER column holds on PostgreSQL; anything above cannot exist and must not reach SQL. */
export const MAX_ROW_ID = 2_147_483_647;

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

export const SessionsResponse = Type.Object({
  status_code: Type.Integer(),
  message: Type.String(),
  result: Type.Array(SessionItem, { description: 'Live sessions, newest first; never a token or its hash' }),
  next_before: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `?before=` for the next page; null on the last page',
  }),
});

export const PasswordChangeBody = Type.Object(
  {
    current_password: Type.Unknown({ description: 'The password now (string)' }),
    new_password: Type.Unknown({ description: 'The new password (string); the signup policy applies' }),
  },
  { additionalProperties: true },
);

export const PasswordChangedResponse = Type.Object({
  status_code: Type.Integer(),
  message: Type.String(),
  result: Type.Object({ auth_token: Type.String({ description: 'The token of the new session' }) }),
});

export const DeactivateBody = Type.Object(
  { password: Type.Unknown({ description: 'The account password (string)' }) },
  { additionalProperties: true },
);

export const ResetRequestBody = Type.Object(
  { email: Type.Unknown({ description: 'The account email (string)', examples: ['user@user.com'] }) },
  { additionalProperties: true },
);

export const ResetConfirmBody = Type.Object(
  {
    token: Type.Unknown({ description: 'The token of the reset link (string, `ras_reset_…`)' }),
    new_password: Type.Unknown({ description: 'The new password (string); the signup policy applies' }),
  },
  { additionalProperties: true },
);

export const VerifyEmailBody = Type.Object(
  { token: Type.Unknown({ description: 'The token of the verification link (string, `ras_verify_…`)' }) },
  { additionalProperties: true },
);

export const EmailChangeBody = Type.Object(
  {
    password: Type.Unknown({ description: 'The account password (string)' }),
    new_email: Type.Unknown({ description: 'The new address (string)' }),
  },
  { additionalProperties: true },
);

export const AccountResponse = Type.Object({
  status_code: Type.Integer(),
  message: Type.String(),
  result: Type.Object({
    id: Type.Integer(),
    email: Type.String(),
    email_verified: Type.Boolean(),
    date_joined: Type.String({ format: 'date-time' }),
    password_changed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
});
