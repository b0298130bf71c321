import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Times are integer milliseconds since the epoch in both dialects
 * (BIGINT, parsed back to numbers on PostgreSQL), so comparisons and arithmetic read the same everywhere.
 */
export interface UsersTable {
  id: Generated<number>;
  /** Trimmed, NFKC-normalized, lower-cased; unique. */
  email: string;
  /** An argon2id PHC string, or an imported hash upgraded at the next login. */
  password_hash: string;
  /** 1 or 0: SQLite has no boolean and better-sqlite3 cannot bind one. */
  is_active: number;
  date_joined: number;
  /**
   * Raised by every password change or reset, email change and (de)activation. A session opens only for the
   * version its password was checked against; a mailed link is honoured only under the version it was issued.
   */
  credentials_version: Generated<number>;
  /** 1 once the owner proved the address (a verification or email-change link). */
  email_verified: Generated<number>;
  password_changed_at: number | null;
  /** 1 while a second factor is enabled: read with the user at login, so other accounts pay no query. */
  mfa_enabled: Generated<number>;
  /** When a login last opened a session (null: never, or before this was recorded). */
  last_login: number | null;
}

export interface AccountTokensTable {
  id: Generated<number>;
  user_id: number;
  /** `reset`, `verify` or `email_change`; at most one live token of each kind per account. */
  kind: string;
  /** SHA-256 of the token, hex. */
  token_hash: string;
  /** For `email_change`: the address that becomes the account's when the link is followed. */
  new_email: string | null;
  /** The account's credentials version when issued: the token is honoured only while it is current. */
  credentials_version: number;
  created_at: number;
  expires_at: number;
}

/**
 * A mail *request*: what to send, never the mail (its link's token is minted when it is sent). Finished rows
 * (`sent_at` set, with `outcome` sent or skipped; or `failed_at`) are pruned after a week.
 */
export interface MailOutboxTable {
  id: Generated<number>;
  /** Null for a reset asked for an address until it is resolved, and for the deletion notice. */
  user_id: number | null;
  kind: string;
  to_address: string;
  /** The credentials version a link was asked under; the link is not sent if it changed. */
  credentials_version: number | null;
  outcome: 'sent' | 'skipped' | null;
  created_at: number;
  next_attempt_at: number;
  attempts: Generated<number>;
  sent_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  token_hash: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  user_agent: string | null;
  ip: string | null;
}

export interface LoginThrottleTable {
  /** `address:<email> <ip>` or `account:<email>` */
  key: string;
  failures: number;
  last_failure_at: number;
  blocked_until: number;
  last_success_at: number | null;
}

/** The audit log: one row per account change, written with it. No secret ever; `data` is JSON text. */
export interface EventsTable {
  id: Generated<number>;
  /** `evt_…`: the id the API and webhooks show (`webhook-id`). */
  uid: string;
  type: string;
  created_at: number;
  /** Null for events of no account; kept after the account is deleted. */
  user_id: number | null;
  actor_type: string;
  actor_name: string | null;
  ip: string | null;
  user_agent: string | null;
  data: string;
}

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  /** Comma-separated patterns (`*`, `user.deleted`, `user.*`). */
  events: string;
  /** The `whsec_…` signing secret, sealed with MFA_KEY (crypto/secret-box.ts). */
  secret_sealed: string;
  created_at: number;
  failing_since: number | null;
  disabled_at: number | null;
}

/** One event to one endpoint: queued with the event, delivered (or given up) after the commit. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_id: number;
  created_at: number;
  next_attempt_at: number;
  attempts: Generated<number>;
  delivered_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

/** The account's TOTP secret, sealed with MFA_KEY; pending until a code confirms it. */
export interface MfaTotpTable {
  user_id: number;
  secret_sealed: string;
  confirmed_at: number | null;
  /** The last 30 s step whose code was accepted: a code is accepted once. */
  last_step: number | null;
  created_at: number;
}

export interface MfaRecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 of the code (high entropy, like a token); deleted when used. */
  code_hash: string;
  created_at: number;
}

/** A login waiting for its second factor: the `ras_mfa_…` token's hash and the codes tried with it. */
export interface MfaChallengesTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  credentials_version: number;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
}

/** An operator's API key: named, scoped, stored as SHA-256; deleted when revoked. */
export interface AdminKeysTable {
  id: Generated<number>;
  name: string;
  key_hash: string;
  /** Comma-separated: users:read, users:write, sessions:write, events:read. */
  scopes: string;
  created_at: number;
  /** Written at most once a minute. */
  last_used_at: number | null;
}

/** A registered passkey: its credential id and COSE public key (base64url), the signature counter last seen. */
export interface PasskeysTable {
  id: Generated<number>;
  user_id: number;
  credential_id: string;
  public_key: string;
  counter: number;
  /** Comma-separated, as the browser reported them (hints for the next ceremony). */
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** An outstanding WebAuthn ceremony: the challenge's SHA-256; deleted by the statement that uses it. */
export interface WebAuthnChallengesTable {
  id: Generated<number>;
  challenge_hash: string;
  purpose: string;
  user_id: number | null;
  mfa_token_hash: string | null;
  created_at: number;
  expires_at: number;
}

export interface Tables {
  users: UsersTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  account_tokens: AccountTokensTable;
  mail_outbox: MailOutboxTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  admin_keys: AdminKeysTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebAuthnChallengesTable;
}
