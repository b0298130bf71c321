/**
 * Every way an accounts operation can be refused, as a stable code. The domain throws `AccountError`;
 * `http/error-mapper.ts` alone turns a code into a status and the seed's exact body.
 */
export type AccountErrorCode =
  | 'email_invalid'
  | 'email_taken'
  | 'password_refused'
  | 'invalid_credentials'
  | 'account_deactivated'
  | 'credentials_missing'
  | 'token_invalid'
  | 'permission_denied'
  | 'user_not_found'
  | 'session_not_found'
  | 'throttled'
  | 'rate_limited'
  | 'unavailable';

export class AccountError extends Error {
  constructor(
    readonly code: AccountErrorCode,
    /** Shown to the client where the code's message varies (which password rule failed). */
    readonly reason?: string,
    /** For `throttled`: when to try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(reason ?? code);
    this.name = 'AccountError';
  }
}
