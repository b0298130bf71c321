import type { EventRecord, NewEvent } from './event-types.js';
import type { MailKind, MailRequest, QueuedMail } from './mail.js';

/**
 * What the accounts domain needs from storage, named for intent. The SQL lives in `store/`;
 * one shared suite (`store/store.test.ts`) proves the implementation on SQLite and PostgreSQL.
 * Times are milliseconds since the epoch.
 */

export interface UserRecord {
  id: number;
  email: string;
  passwordHash: string;
  isActive: boolean;
  dateJoined: number;
  /** Raised by every password change and (de)activation: sessions open only for the version checked. */
  credentialsVersion: number;
  emailVerified: boolean;
  passwordChangedAt: number | null;
  /** A second factor is enabled: a right password then opens a challenge, not a session. */
  mfaEnabled: boolean;
  lastLogin: number | null;
}

/** Which users an operator asks for: one exact email, an email prefix, or everyone, by id after `after`. */
export interface UserSearch {
  email?: string;
  emailPrefix?: string;
  after?: number;
  limit: number;
}

export type AdminScope = 'users:read' | 'users:write' | 'sessions:write' | 'events:read';

export interface AdminKeyRecord {
  id: number;
  name: string;
  scopes: AdminScope[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface AdminKeyStore {
  /** Stores the key; false when the name is taken. */
  create(key: { name: string; keyHash: string; scopes: AdminScope[]; now: number }): Promise<boolean>;
  list(): Promise<AdminKeyRecord[]>;
  /** Deletes the key: refused from the next request on every instance (nothing caches a key). */
  revoke(name: string): Promise<boolean>;
  findByHash(keyHash: string): Promise<AdminKeyRecord | undefined>;
  /** Records a use, unless one was recorded since `notBefore`. */
  touch(id: number, now: number, notBefore: number): Promise<void>;
}

/** The account state a password check saw; a session opens only while it still holds. */
export interface CheckedCredentials {
  userId: number;
  credentialsVersion: number;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  dateJoined: number;
}

export interface NewSession {
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
}

/** A live session joined to its (active) user: everything an authenticated request needs, in one read. */
export interface ActiveSession {
  sessionId: number;
  userId: number;
  email: string;
  /** Read with the session, so REQUIRE_VERIFIED_EMAIL costs the authenticated read no query. */
  emailVerified: boolean;
  expiresAt: number;
  lastSeenAt: number;
}

export interface SessionRecord {
  id: number;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  userAgent: string | null;
  ip: string | null;
}

export interface UserStore {
  /** Inserts the account; `undefined` when the email is taken (the unique index decides). */
  insertUser(user: NewUser): Promise<number | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: number): Promise<UserRecord | undefined>;
  /** Up to `limit` stored hashes that are not Ras's argon2id (imported, not yet upgraded by a login). */
  foreignHashes(limit: number): Promise<string[]>;
  /**
   * Replaces the hash with a stronger one of the same password (a rehash at login), unless the credentials
   * changed since they were checked: a late rehash must never bring an old password back.
   */
  upgradePasswordHash(checked: CheckedCredentials, passwordHash: string): Promise<void>;
  /**
   * Sets a new password and raises the credentials version, if the version is still the one checked (any
   * version when `checked.credentialsVersion` is undefined: a reset). Returns the new version, or undefined
   * when the credentials changed meanwhile (or the user is gone).
   */
  changePasswordHash(
    checked: { userId: number; credentialsVersion?: number },
    passwordHash: string,
    now: number,
  ): Promise<number | undefined>;
  /**
   * Marks the address verified; with `credentialsVersion`, only while the credentials are still that version
   * (a link's). False when nothing was marked.
   */
  setEmailVerified(userId: number, credentialsVersion?: number): Promise<boolean>;
  /**
   * Makes `email` the account's (verified) address and raises the credentials version, if the version is
   * still `credentialsVersion`. False when it changed; throws `EmailTakenError` when another account has the
   * address (the unique index decides).
   */
  changeEmail(userId: number, email: string, credentialsVersion: number): Promise<boolean>;
  /** Erases the account: the row, and by cascade its sessions and tokens. The id is never handed out again. */
  deleteUser(userId: number): Promise<boolean>;
  /** Locks the account's row until the transaction ends (PostgreSQL; SQLite's writes are serial). */
  lockUser(userId: number): Promise<void>;
  /** Activates or deactivates and raises the credentials version. Returns false when there is no such user. */
  setUserActive(userId: number, active: boolean): Promise<boolean>;
  /** Users in id order: keyset pages, no OFFSET, no COUNT. */
  searchUsers(search: UserSearch): Promise<UserRecord[]>;
  /** Clears the verified mark (an operator's correction). */
  clearEmailVerified(userId: number): Promise<boolean>;
  recordLogin(userId: number, now: number): Promise<void>;
}

export interface SessionPage {
  limit: number;
  before?: number;
}

export interface SessionStore {
  /**
   * Opens the session only if its user is active with the credentials version that was checked, reading the
   * user row under a row lock (PostgreSQL), so a password change or deactivation that ends the user's
   * sessions either sees this one or is seen by it, and concurrent logins of one account open one at a time.
   * Undefined when the credentials changed.
   */
  openSession(session: NewSession, checked: CheckedCredentials): Promise<number | undefined>;
  /** Ends the user's oldest sessions beyond the newest `keep`; returns how many. */
  trimSessionsOfUser(userId: number, keep: number): Promise<number>;
  /** The unexpired session with this token hash, if its user is active. */
  findActiveSessionByTokenHash(tokenHash: string, now: number): Promise<ActiveSession | undefined>;
  /** True only for the one caller that actually deleted it: concurrent logouts see one true. */
  deleteSessionByTokenHash(tokenHash: string): Promise<boolean>;
  deleteSessionOfUser(userId: number, sessionId: number): Promise<boolean>;
  /** Deletes every session of the user; returns how many. */
  deleteSessionsOfUser(userId: number): Promise<number>;
  deleteExpiredSessionsOfUser(userId: number, now: number): Promise<void>;
  /** The user's live sessions, newest (highest id) first, `limit` of them, with ids below `before` if given. */
  listActiveSessionsOfUser(userId: number, now: number, page: SessionPage): Promise<SessionRecord[]>;
  touchSession(sessionId: number, now: number): Promise<void>;
}

/** A single-use token of the account's lifecycle, stored as a hash. */
export type AccountTokenKind = 'reset' | 'verify' | 'email_change';

export interface NewAccountToken {
  userId: number;
  kind: AccountTokenKind;
  tokenHash: string;
  newEmail: string | null;
  /** The account's credentials version when issued: the token opens nothing once it has changed. */
  credentialsVersion: number;
  createdAt: number;
  expiresAt: number;
}

export interface ConsumedToken {
  userId: number;
  kind: AccountTokenKind;
  newEmail: string | null;
  credentialsVersion: number;
}

export interface AccountTokenStore {
  /** Stores the token, ending every other token of its kind for the account. */
  replaceToken(token: NewAccountToken): Promise<void>;
  /**
   * The live token with this hash, if any of these kinds and issued under the account's current credentials
   * version (a token from before a password, email or activation change is as good as none).
   */
  findToken(tokenHash: string, kinds: AccountTokenKind[], now: number): Promise<ConsumedToken | undefined>;
  /**
   * Deletes the live token with this hash and returns it, under the same conditions as `findToken`: of
   * concurrent callers, exactly one gets it.
   */
  consumeToken(tokenHash: string, kinds: AccountTokenKind[], now: number): Promise<ConsumedToken | undefined>;
}

export type { MailKind, MailRequest, QueuedMail } from './mail.js';

export interface OutboxStore {
  /** Queues the request; its mail is made (token minted, text rendered) only when it is sent. */
  enqueue(mail: MailRequest, now: number): Promise<void>;
  /** Requests of this kind for the account since `since` that were not skipped (sent, or still to send). */
  countSince(userId: number, kind: MailKind, since: number): Promise<number>;
  /** Drops the account's mails not yet sent (its deletion). */
  dropUnsentOf(userId: number): Promise<void>;
  /**
   * Takes up to `limit` due mails for delivery, hiding them from other deliverers for `leaseMs` (a deliverer
   * that dies mid-way leaves them due again). PostgreSQL skips rows another deliverer is claiming.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<QueuedMail[]>;
  /** Records the account a request for an address turned out to be for (counted by `countSince` from then). */
  resolveTo(id: number, userId: number): Promise<void>;
  markSent(id: number, now: number): Promise<void>;
  /** The request needed no mail (an unknown address, a limit reached, credentials changed since). */
  markSkipped(id: number, now: number): Promise<void>;
  retryAt(id: number, at: number, error: string): Promise<void>;
  markFailed(id: number, now: number, error: string): Promise<void>;
  /** Deletes rows finished (sent, skipped or failed) before `before`; returns how many. */
  pruneFinished(before: number): Promise<number>;
  /** Queued (unsent, not failed) mails and the age of the oldest, for metrics. */
  backlog(now: number): Promise<{ queued: number; oldestAgeMs: number }>;
}

export interface EventFilter {
  userId?: number;
  type?: string;
  /** Events after this one (oldest first), by its `evt_…` id. */
  after?: string;
  limit: number;
}

export interface EventStore {
  /** Appends the event; returns its row id (the queue's reference to it). */
  append(event: NewEvent): Promise<number>;
  /** The account's events, newest first, `limit` of them, older than the event `before` if given. */
  listOfUser(userId: number, page: { limit: number; before?: string }): Promise<EventRecord[]>;
  /** Events matching the filter, oldest first. */
  list(filter: EventFilter): Promise<EventRecord[]>;
  /** Deletes events created before `before` that no delivery still waits for; returns how many. */
  prune(before: number): Promise<number>;
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  /** Patterns: `*`, an event type, or a prefix ending in `.*`. */
  events: string[];
  createdAt: number;
  failingSince: number | null;
  disabledAt: number | null;
}

/** A delivery claimed for sending, with what it needs: its event, its endpoint's address and sealed secret. */
export interface ClaimedDelivery {
  id: number;
  endpointId: number;
  url: string;
  secretSealed: string;
  event: EventRecord;
  createdAt: number;
  attempts: number;
}

export interface WebhookBacklog {
  endpointId: number;
  url: string;
  queued: number;
  oldestAgeMs: number;
}

export interface WebhookStore {
  addEndpoint(endpoint: {
    url: string;
    events: string[];
    secretSealed: string;
    createdAt: number;
  }): Promise<number>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  removeEndpoint(id: number): Promise<boolean>;
  /** The endpoints events are queued for (not disabled). */
  activeEndpoints(): Promise<WebhookEndpoint[]>;
  /** Queues the event for each endpoint. */
  queueDeliveries(eventId: number, endpointIds: number[], now: number): Promise<void>;
  /** Enabled endpoints with a delivery due now. */
  dueEndpoints(now: number): Promise<number[]>;
  /**
   * Takes up to `limit` due deliveries of one endpoint, oldest first, hiding them from other deliverers for
   * `leaseMs` (PostgreSQL skips rows another deliverer is claiming).
   */
  claimDue(endpointId: number, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /** The delivery succeeded: it is done, and its endpoint is no longer failing. */
  markDelivered(delivery: { id: number; endpointId: number }, now: number): Promise<void>;
  /** The delivery failed and will be tried again at `at`; returns since when the endpoint has been failing. */
  retryAt(
    delivery: { id: number; endpointId: number },
    at: number,
    now: number,
    error: string,
  ): Promise<number>;
  /** The delivery is given up; returns since when the endpoint has been failing. */
  markFailed(delivery: { id: number; endpointId: number }, now: number, error: string): Promise<number>;
  disableEndpoint(endpointId: number, now: number): Promise<void>;
  /** Turns a disabled endpoint back on (its waiting deliveries resume). False when there is no such endpoint. */
  enableEndpoint(endpointId: number): Promise<boolean>;
  /** Deletes deliveries finished before `before`. */
  pruneFinished(before: number): Promise<number>;
  /** Per enabled endpoint: deliveries waiting and the age of the oldest (metrics). */
  backlog(now: number): Promise<WebhookBacklog[]>;
}

/** A login's pending second step, as the store counts it. */
export interface MfaChallenge {
  userId: number;
  credentialsVersion: number;
}

export interface SecondFactorStore {
  /** Stores a new unconfirmed TOTP secret, replacing an unconfirmed one; false when one is confirmed already. */
  putPendingTotp(userId: number, secretSealed: string, now: number): Promise<boolean>;
  /** The account's TOTP secret (sealed) and whether it is confirmed. */
  findTotp(userId: number): Promise<{ secretSealed: string; confirmed: boolean } | undefined>;
  /**
   * Records `step` as used, if it is later than the last one used (a code is accepted once, also on another
   * instance: the check and the record are one statement). With `confirm`, the secret must be pending and
   * becomes confirmed; otherwise it must be confirmed. False when refused.
   */
  useTotpStep(userId: number, step: number, now: number, confirm: boolean): Promise<boolean>;
  /** Sets `users.mfa_enabled`. */
  setMfaEnabled(userId: number, enabled: boolean): Promise<void>;
  /** Replaces every recovery code of the account with these hashes. */
  replaceRecoveryCodes(userId: number, codeHashes: string[], now: number): Promise<void>;
  /** Deletes the account's code with this hash: true for the one caller that did (a code works once). */
  useRecoveryCode(userId: number, codeHash: string): Promise<boolean>;
  countRecoveryCodes(userId: number): Promise<number>;
  /**
   * Removes the TOTP factor: the secret, the recovery codes, pending challenges. True when there was a secret.
   * (`mfa_enabled` is the caller's to set again: a passkey may remain.)
   */
  removeSecondFactor(userId: number): Promise<boolean>;
  openChallenge(challenge: {
    tokenHash: string;
    userId: number;
    credentialsVersion: number;
    now: number;
    expiresAt: number;
  }): Promise<void>;
  /**
   * Counts one code tried with the challenge before it is checked: the live challenge with this hash if it had
   * fewer than `maxAttempts` tries (the count and the condition are one statement), else undefined.
   */
  reserveChallengeAttempt(
    tokenHash: string,
    now: number,
    maxAttempts: number,
  ): Promise<MfaChallenge | undefined>;
  /** The live challenge with this hash that has codes left, without counting one (to offer a passkey). */
  findLiveChallenge(tokenHash: string, now: number, maxAttempts: number): Promise<MfaChallenge | undefined>;
  /** Ends the challenge (its code was right): true for the one caller that did. */
  consumeChallenge(tokenHash: string): Promise<boolean>;
}

/** A registered passkey (WebAuthn credential). Ids and keys are base64url; the public key opens nothing. */
export interface PasskeyRecord {
  id: number;
  userId: number;
  credentialId: string;
  publicKey: string;
  /** The signature counter last seen: a later use must show a higher one (0 stays 0 for counterless keys). */
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NewPasskey {
  userId: number;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
}

/** What a WebAuthn challenge was issued for: adding a passkey, a passwordless login, a login's second step. */
export type WebAuthnPurpose = 'register' | 'login' | 'mfa';

export interface WebAuthnChallenge {
  purpose: WebAuthnPurpose;
  /** The account it was issued to (none for a passwordless login: the passkey tells). */
  userId: number | null;
  /** For `mfa`: the hash of the login's `ras_mfa_…` token it belongs to. */
  mfaTokenHash: string | null;
}

export interface PasskeyStore {
  /** Stores the passkey; undefined when its credential id is registered already. */
  add(passkey: NewPasskey): Promise<number | undefined>;
  listOfUser(userId: number): Promise<PasskeyRecord[]>;
  countOfUser(userId: number): Promise<number>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined>;
  /** Deletes the account's passkey: true for the one caller that did. */
  remove(userId: number, id: number): Promise<boolean>;
  removeAllOfUser(userId: number): Promise<number>;
  /**
   * Records a use (the new counter, the time) if the passkey still exists with the counter that was checked:
   * a passkey removed, or used by another login, since the check is refused.
   */
  recordUse(id: number, checkedCounter: number, newCounter: number, now: number): Promise<boolean>;
  /** Stores an outstanding challenge (and deletes expired ones). */
  saveChallenge(
    challenge: WebAuthnChallenge & { challengeHash: string; now: number; expiresAt: number },
  ): Promise<void>;
  /** Deletes the live challenge with this hash and purpose and returns it: of concurrent callers, one gets it. */
  consumeChallenge(
    challengeHash: string,
    purpose: WebAuthnPurpose,
    now: number,
  ): Promise<WebAuthnChallenge | undefined>;
}

export interface Store {
  users: UserStore;
  mfa: SecondFactorStore;
  passkeys: PasskeyStore;
  adminKeys: AdminKeyStore;
  sessions: SessionStore;
  tokens: AccountTokenStore;
  outbox: OutboxStore;
  events: EventStore;
  webhooks: WebhookStore;
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Resolves when the database answers and holds the schema this build needs. */
  ping(): Promise<void>;
}

/** Failed-login bookkeeping for one key (an account, or an account seen from one address). */
export interface FailureCounter {
  /** Consecutive attempts not followed by a success, in the current window. */
  failures: number;
  /** When the last of them was counted (ms); 0 for none. */
  lastFailureAt: number;
  /** Attempts are refused until then (ms); 0 when not blocked. */
  blockedUntil: number;
  /** Last successful login under this key (ms), or null. */
  lastSuccessAt: number | null;
}

export interface AttemptKeys {
  address: string;
  account: string;
}

/** How one key is throttled (see throttle.ts for the policies and the rule that applies them). */
export interface ThrottlePolicy {
  /** The failure that starts the first block: from this one on, each failure blocks the key. */
  failuresBeforeBlock: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A failure older than this (counted from the last one) starts the count over. */
  windowMs: number;
}

/** What a store needs to count one attempt (see `reserve` in throttle.ts, the rule it applies). */
export interface AttemptReservation {
  now: number;
  /** A success from the address this recently exempts it from the account-wide block. */
  knownAddressMs: number;
  address: { key: string; policy: ThrottlePolicy };
  account: { key: string; policy: ThrottlePolicy };
}

export interface AttemptCounters {
  address?: FailureCounter;
  account?: FailureCounter;
}

export type ReservationOutcome =
  | { admitted: false; blockedUntil: number }
  | { admitted: true; address: FailureCounter; account: FailureCounter };

/**
 * Where login attempts are counted: the database, or Redis when configured. Every instance of Ras reads
 * and writes the same counters, so two instances behind a load balancer throttle together.
 */
export interface ThrottleStore {
  /**
   * Applies `reserve` (throttle.ts) to the two keys atomically: no other attempt on either key reads or
   * writes them in between. Returns the time the attempt is blocked until (refused, nothing counted), or 0
   * when it was admitted and counted.
   */
  reserveAttempt(attempt: AttemptReservation): Promise<number>;
  /** Clears the failures and block of each key and remembers the success time. */
  recordSuccess(keys: string[], now: number): Promise<void>;
  /** Deletes the account's counter and every counter whose key starts with `addressPrefix`. */
  clearAccount(accountKey: string, addressPrefix: string): Promise<void>;
  /** The counters of these keys; a key never seen is absent. For tests and operators. */
  readCounters(keys: string[]): Promise<Map<string, FailureCounter>>;
}

/** A write would give an address to a second account: the unique index refused it. */
export class EmailTakenError extends Error {
  constructor(cause?: unknown) {
    super('email taken', { cause });
    this.name = 'EmailTakenError';
  }
}

/** The storage behind an operation could not be reached (a database or Redis outage): answered with 503. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('storage unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
