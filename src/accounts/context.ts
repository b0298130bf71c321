import type { PasswordHasher } from '../crypto/passwords.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Actor } from './event-types.js';
import type { Mailer } from './mail.js';
import type { Store } from './storage.js';
import type { LoginThrottle } from './throttle.js';

/** What every accounts operation is given. Built once in app.ts. */
export interface AccountsContext {
  store: Store;
  passwords: PasswordHasher;
  throttle: LoginThrottle;
  /** Milliseconds since the epoch; a parameter so tests can move time. */
  now: () => number;
  sessionTtlMs: number;
  /** Live sessions an account may hold; a login beyond ends the oldest. */
  sessionsMax: number;
  /** Null without SMTP_URL: nothing is mailed, and what needs a mail is refused. */
  mail: Mailer | null;
  /** The product name: the issuer authenticator apps show. */
  appName: string;
  /** Seals and opens the secrets Ras reads back (MFA_KEY); null without it. */
  secrets: SecretBox | null;
  /** The WebAuthn relying party passkeys are bound to (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS). */
  relyingParty: RelyingParty;
  /** REQUIRE_VERIFIED_EMAIL: a correct login of an unverified account opens no session. */
  requireVerifiedEmail: boolean;
}

export interface RelyingParty {
  /** The domain passkeys are bound to. */
  id: string;
  /** The origins a ceremony may come from (the account page's). */
  origins: string[];
}

/** Who is asking: recorded on the session a login opens, shown back in the session list. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  /** Aborted when the client goes away: hashing it still waits for is dropped. */
  signal?: AbortSignal;
  /** Who acts, as events record it; the account's owner when absent. */
  actor?: Actor;
}

/** The answer to a signup or login: the account and the token of the new session. */
export interface SignedIn {
  user: { id: number; email: string };
  token: string;
}
