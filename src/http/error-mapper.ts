import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply } from 'fastify';
import { AccountError, type AccountErrorCode } from '../accounts/errors.js';
import { StoreUnavailableError } from '../accounts/storage.js';
import { HashAbandonedError, HasherBusyError } from '../crypto/passwords.js';
import { MESSAGES, SEED } from './messages.js';
import { HttpRefusal, type HttpRefusalCode } from './refusals.js';

/** A status, the body to send and any headers it needs. */
export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Log the error behind it (an outage); a 500 is always logged. */
  log?: boolean;
}

/** `{"status_code": N, "message": "..."}`, and `"result"` when there is one: every body in the envelope. */
export function envelope(status: number, message: string): { status_code: number; message: string };
export function envelope<R>(
  status: number,
  message: string,
  result: R,
): { status_code: number; message: string; result: R };
export function envelope(status: number, message: string, ...result: unknown[]) {
  return result.length === 0
    ? { status_code: status, message }
    : { status_code: status, message, result: result[0] };
}

// DRF sends this on every 401 of TokenAuthentication; clients may read it to know which scheme to use.
const WWW_AUTHENTICATE = { 'www-authenticate': 'Token' };

const INVALID_TOKEN: HttpAnswer = {
  status: 401,
  body: { message: SEED.invalidToken },
  headers: WWW_AUTHENTICATE,
};
const SESSION_NOT_FOUND: HttpAnswer = { status: 404, body: envelope(404, MESSAGES.notFound) };

/** 429 with the seconds to wait in Retry-After, as the throttle or the rate limiter computed them. */
function tooManyRequests(message: string): (error: { retryAfterSeconds?: number }) => HttpAnswer {
  return (error) => ({
    status: 429,
    body: envelope(429, message),
    headers: { 'retry-after': String(error.retryAfterSeconds ?? 60) },
  });
}

const ACCOUNT_ERRORS: Record<AccountErrorCode, (error: AccountError) => HttpAnswer> = {
  email_invalid: () => ({ status: 401, body: envelope(401, SEED.emailInvalid) }),
  email_taken: () => ({ status: 401, body: envelope(401, SEED.emailTaken) }),
  password_refused: (e) => ({ status: 400, body: envelope(400, e.reason ?? MESSAGES.badRequest) }),
  invalid_credentials: () => ({ status: 400, body: envelope(400, SEED.invalidCredentials) }),
  account_deactivated: () => ({ status: 404, body: envelope(404, SEED.deactivated) }),
  token_invalid: () => INVALID_TOKEN,
  session_not_found: () => SESSION_NOT_FOUND,
  throttled: tooManyRequests(MESSAGES.throttled),
  attempts_in_progress: tooManyRequests(MESSAGES.attemptsInProgress),
  email_malformed: () => ({ status: 400, body: envelope(400, SEED.emailInvalid) }),
  link_invalid: () => ({ status: 400, body: envelope(400, MESSAGES.linkInvalid) }),
  email_unverified: () => ({ status: 403, body: envelope(403, MESSAGES.emailUnverified) }),
  mail_not_configured: () => ({ status: 503, body: envelope(503, MESSAGES.mailNotConfigured) }),
  mfa_not_configured: () => ({ status: 503, body: envelope(503, MESSAGES.mfaNotConfigured) }),
  mfa_code_invalid: () => ({ status: 400, body: envelope(400, MESSAGES.mfaCodeInvalid) }),
  mfa_token_invalid: () => ({ status: 400, body: envelope(400, MESSAGES.linkInvalid) }),
  mfa_already_enabled: () => ({ status: 400, body: envelope(400, MESSAGES.mfaAlreadyEnabled) }),
  mfa_not_enabled: () => ({ status: 400, body: envelope(400, MESSAGES.mfaNotEnabled) }),
  passkey_invalid: () => ({ status: 400, body: envelope(400, MESSAGES.passkeyInvalid) }),
  passkey_exists: () => ({ status: 400, body: envelope(400, MESSAGES.passkeyExists) }),
  passkey_not_found: () => ({ status: 404, body: envelope(404, MESSAGES.passkeyNotFound) }),
  passkey_name_invalid: () => ({ status: 400, body: envelope(400, MESSAGES.passkeyNameInvalid) }),
};

const HTTP_REFUSALS: Record<HttpRefusalCode, (refusal: HttpRefusal) => HttpAnswer> = {
  credentials_missing: () => ({
    status: 401,
    body: { detail: SEED.credentialsMissing },
    headers: WWW_AUTHENTICATE,
  }),
  token_invalid: () => INVALID_TOKEN,
  permission_denied: () => ({ status: 403, body: { detail: SEED.permissionDenied } }),
  path_id_invalid: () => ({ status: 404, body: { detail: SEED.notFoundDetail } }),
  session_id_invalid: () => SESSION_NOT_FOUND,
  email_unverified: () => ({ status: 403, body: envelope(403, MESSAGES.emailUnverified) }),
  rate_limited: tooManyRequests(MESSAGES.rateLimited),
};

const OUTAGE: HttpAnswer = { status: 503, body: envelope(503, MESSAGES.unavailable), log: true };
const BUSY: HttpAnswer = {
  status: 503,
  body: envelope(503, MESSAGES.busy),
  headers: { 'retry-after': '1' },
};

const FASTIFY_ERRORS: Record<string, HttpAnswer> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, body: envelope(413, MESSAGES.bodyTooLarge) },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, body: envelope(415, MESSAGES.unsupportedMediaType) },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, body: envelope(400, MESSAGES.badRequest) },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, body: envelope(400, MESSAGES.malformedJson) },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, body: envelope(400, MESSAGES.malformedJson) },
};

/**
 * The one place that knows status codes: any error thrown while serving a request becomes the contract's
 * answer. A 5xx body says nothing internal (no message, stack, SQL or path).
 */
export function toHttpAnswer(error: unknown): HttpAnswer {
  if (error instanceof HttpRefusal) return HTTP_REFUSALS[error.code](error);
  if (error instanceof AccountError) return ACCOUNT_ERRORS[error.code](error);
  if (error instanceof StoreUnavailableError) return OUTAGE;
  // A full hash queue is load, not a fault: refused at once, retried in a second.
  if (error instanceof HasherBusyError) return BUSY;
  // Nobody is left to read this answer.
  if (error instanceof HashAbandonedError) return { status: 503, body: envelope(503, MESSAGES.unavailable) };

  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return { status: 400, body: envelope(400, validationMessage(fastifyError)) };
  const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) return known;
  if (error instanceof SyntaxError) return { status: 400, body: envelope(400, MESSAGES.malformedJson) };

  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, body: envelope(status, (STATUS_CODES[status] ?? MESSAGES.badRequest).toLowerCase()) };
  }
  return { status: 500, body: envelope(500, MESSAGES.internal) };
}

/** Sends the answer: status, its headers, its body. */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply
    .code(answer.status)
    .headers(answer.headers ?? {})
    .send(answer.body);
}

/** "email is required" for a missing field; otherwise Fastify's description of the first problem. */
function validationMessage(error: Partial<FastifyError>): string {
  const first = error.validation?.[0];
  const missing = (first?.params as { missingProperty?: unknown } | undefined)?.missingProperty;
  if (first?.keyword === 'required' && typeof missing === 'string') return `${missing} is required`;
  if (error.validationContext === 'body' && first?.keyword === 'type')
    return 'request body must be a JSON object';
  if (error.validationContext === 'querystring') return MESSAGES.invalidQuery;
  return `invalid request ${error.validationContext ?? ''}`.trim();
}
