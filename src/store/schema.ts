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
  /** Raised by every password change and (de)activation; a session opens only for the version it checked. */
  credentials_version: Generated<number>;
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

export interface Tables {
  users: UsersTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
}
