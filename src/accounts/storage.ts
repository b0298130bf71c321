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
}

export interface NewUser {
  email: string;
  passwordHash: string;
  dateJoined: number;
}

export interface NewSession {
  userId: number;
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
  updatePasswordHash(userId: number, passwordHash: string): Promise<void>;
  /** Returns false when there is no such user. */
  setUserActive(userId: number, active: boolean): Promise<boolean>;
}

export interface SessionStore {
  createSession(session: NewSession): Promise<number>;
  /** The unexpired session with this token hash, if its user is active. */
  findActiveSessionByTokenHash(tokenHash: string, now: number): Promise<ActiveSession | undefined>;
  /** True only for the one caller that actually deleted it: concurrent logouts see one true. */
  deleteSessionByTokenHash(tokenHash: string): Promise<boolean>;
  deleteSessionOfUser(userId: number, sessionId: number): Promise<boolean>;
  /** Deletes every session of the user but `exceptSessionId`; returns how many. */
  deleteSessionsOfUser(userId: number, exceptSessionId?: number): Promise<number>;
  deleteExpiredSessionsOfUser(userId: number, now: number): Promise<void>;
  listActiveSessionsOfUser(userId: number, now: number): Promise<SessionRecord[]>;
  touchSession(sessionId: number, now: number): Promise<void>;
}

export interface Store {
  users: UserStore;
  sessions: SessionStore;
  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
}

/** Failed-login bookkeeping for one key (an account, or an account seen from one address). */
export interface FailureCounter {
  /** Consecutive failures in the current window. */
  failures: number;
  /** Attempts are refused until then (ms); 0 when not blocked. */
  blockedUntil: number;
  /** Last successful login under this key (ms), or null. */
  lastSuccessAt: number | null;
}

/**
 * Where login failures are counted: the database, or Redis when configured. Every instance of Ras reads
 * and writes the same counters, so two instances behind a load balancer throttle together.
 */
export interface ThrottleStore {
  /** The counters for these keys; a key never seen is absent. */
  readCounters(keys: string[]): Promise<Map<string, FailureCounter>>;
  /**
   * Counts one failure atomically: the count restarts at 1 when the previous failure is older than
   * `windowMs`. Returns the new count.
   */
  recordFailure(key: string, now: number, windowMs: number): Promise<number>;
  /** Blocks the key until `until`, unless it is already blocked for longer. */
  blockUntil(key: string, until: number): Promise<void>;
  /** Clears the failures and block of the key and remembers the success time. */
  recordSuccess(key: string, now: number): Promise<void>;
}
