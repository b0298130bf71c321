/**
 * Every way an accounts operation can be refused, as a stable code. The domain throws `AccountError`;
 * `http/error-mapper.ts` alone turns a code into a status and the seed's exact body. Refusals of the HTTP
 * layer (no credentials, another account's id, rate limits) are its own (`http/refusals.ts`), and an
 * outage is the store's `StoreUnavailableError`.
 */
export type AccountErrorCode =
  | 'email_invalid'
  | 'email_taken'
  | 'password_refused'
  | 'invalid_credentials'
  | 'account_deactivated'
  | 'token_invalid'
  | 'session_not_found'
  | 'throttled'
  | 'attempts_in_progress'
  | 'email_malformed'
  | 'link_invalid'
  | 'email_unverified'
  | 'mail_not_configured'
  | 'mfa_not_configured'
  | 'mfa_code_invalid'
  | 'mfa_token_invalid'
  | 'mfa_already_enabled'
  | 'mfa_not_enabled'
  | 'passkey_invalid'
  | 'passkey_exists'
  | 'passkey_not_found'
  | 'passkey_name_invalid';

export interface AccountErrorDetails {
  /**
   * Shown to the client where the code's message varies (which password rule failed); for
   * `invalid_credentials`, why a stored hash was not computed (logged, never shown).
   */
  reason?: string;
  /** For `throttled` and `attempts_in_progress`: when to try again. */
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
