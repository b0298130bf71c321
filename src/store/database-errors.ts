/** How driver errors are told apart: an outage (503) or a fault (500). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_FULL',
  'SQLITE_PERM',
  '3D000', // the database does not exist (dropped, or not created yet)
  '28000', // login refused
  '28P01', // password refused
]);

/**
 * PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong query": 08 connection exception,
 * 53 insufficient resources (too many connections, disk full), 57 operator intervention (shutdown, a
 * terminated backend, a cancelled statement).
 */
const UNAVAILABLE_CLASSES = ['08', '53', '57'];

/** True when the error says the database cannot be reached or written now, as opposed to a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR'))
      return true;
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error|not currently accepting connections/i.test(
    error.message,
  );
}

/** A unique index refused the write (PostgreSQL 23505, SQLite's SQLITE_CONSTRAINT_UNIQUE). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
