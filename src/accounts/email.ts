/**
 * The WHATWG "valid email address" grammar, verbatim from the HTML standard
 * (https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address): the check browsers apply to
 * `<input type=email>`, which is what the contract asks for. No npm package implements exactly this grammar
 * (validator's isEmail and @hapi/address follow other rules, e.g. requiring a TLD), so the spec's own
 * expression is used as published.
 */
const WHATWG_EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Control characters (NUL, CR, LF…) and format characters (bidi overrides, zero-width joiners…). */
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;

export const MAX_EMAIL_LENGTH = 254;

/**
 * The stored form of an email, or `undefined` when it is not a valid address: trimmed, NFKC-normalized
 * (so full-width and other compatibility variants collide with the plain form) and lower-cased.
 * Idempotent: a normalized email normalizes to itself.
 */
export function normalizeEmail(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 4 * MAX_EMAIL_LENGTH) return undefined;
  const trimmed = value.trim();
  if (CONTROL_OR_FORMAT.test(trimmed)) return undefined;
  const email = trimmed.normalize('NFKC').toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH || !WHATWG_EMAIL.test(email)) return undefined;
  return email;
}
