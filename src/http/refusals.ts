/**
 * What the HTTP layer itself refuses, before any accounts operation runs: no or a malformed `Authorization`
 * header, a token for another account, a path id that cannot exist, too many requests from one address, an
 * unverified account's token on a route it does not open (REQUIRE_VERIFIED_EMAIL).
 * The domain's refusals are `AccountError`s; both become answers in error-mapper.ts only.
 */
export type HttpRefusalCode =
  | 'credentials_missing'
  | 'token_invalid'
  | 'permission_denied'
  | 'path_id_invalid'
  | 'session_id_invalid'
  | 'email_unverified'
  | 'rate_limited';

export class HttpRefusal extends Error {
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: HttpRefusalCode,
    details: { retryAfterSeconds?: number } = {},
  ) {
    // An answer, not a fault: capturing a stack cost a tenth of an invalid-token request (what a scanner sends).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(code);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'HttpRefusal';
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
