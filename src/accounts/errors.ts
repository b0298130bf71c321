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

export interface AccountErrorDetails {
  /** Shown to the client where the code's message varies (which password rule failed). */
  reason?: string;
  /** For `throttled` and `rate_limited`: when to try again. */
  retryAfterSeconds?: number;
  /** The account concerned, for the security log only; never shown to the client. */
  userId?: number;
}

export class AccountError extends Error {
  readonly reason?: string;
  readonly retryAfterSeconds?: number;
  readonly userId?: number;

  constructor(
    readonly code: AccountErrorCode,
    details: AccountErrorDetails = {},
  ) {
    // A refusal is an answer, not a fault: no stack is ever logged for one, and capturing it cost a tenth of
    // an invalid-token request (what a scanner sends).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(details.reason ?? code);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AccountError';
    this.reason = details.reason;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.userId = details.userId;
  }
}
