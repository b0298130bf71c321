import { normalizeEmail } from '../accounts/email.js';
import { classifyDjangoHash, djangoHashRefusal } from '../crypto/django-passwords.js';
import type { DjangoUserRow } from './django-source.js';
import type { FallbackCode, RefusalCode } from './report.js';

/**
 * Ras ids are 64-bit in the database (Django's BigAutoField fits), and carried as JSON numbers, exact up to
 * 2^53−1: a larger id could not be told apart from its neighbours by a client, so it is refused.
 */
export const MAX_IMPORTED_ID = Number.MAX_SAFE_INTEGER;

/** A Django user that may be imported, with what its hash means for the report. */
export interface UserCandidate {
  id: number;
  email: string;
  passwordHash: string;
  isActive: boolean;
  dateJoined: number;
  /** Django's unusable password (`!…`): the account cannot log in until an operator acts. */
  unusable: boolean;
}

export interface UserBatchPlan {
  candidates: UserCandidate[];
  refusals: { code: RefusalCode; id: number }[];
  fallbacks: { code: FallbackCode; id: number }[];
}

/**
 * Decides, without touching any database, which rows of a batch may be imported and why the others may not:
 * an id that cannot be one, an invalid email, an unknown hash format, parameters beyond what Ras verifies, or
 * an unsalted legacy hash (unless `acceptUnsalted`). Each row's hash is classified once. An unreadable join
 * date is replaced by the time of the import, and reported.
 */
export function planUserBatch(
  rows: DjangoUserRow[],
  options: { acceptUnsalted: boolean; now: number },
): UserBatchPlan {
  const plan: UserBatchPlan = { candidates: [], refusals: [], fallbacks: [] };
  for (const row of rows) {
    const id = Number(row.id);
    const refusal = refusalOf(row, id, options.acceptUnsalted);
    if (refusal) {
      plan.refusals.push({ code: refusal, id });
      continue;
    }
    let dateJoined = toMillis(row.date_joined);
    if (dateJoined === undefined) {
      plan.fallbacks.push({ code: 'date_joined_unreadable', id });
      dateJoined = options.now;
    }
    plan.candidates.push({
      id,
      email: normalizeEmail(row.email)!,
      passwordHash: row.password ?? '',
      isActive: toBoolean(row.is_active),
      dateJoined,
      unusable: classifyDjangoHash(row.password ?? '').kind === 'unusable',
    });
  }
  return plan;
}

/**
 * Whether the source's id is above MAX_IMPORTED_ID. A PostgreSQL or MySQL BIGINT arrives as text, compared
 * digit for digit: as a number it would be rounded, possibly to a neighbour's id.
 */
function tooLarge(raw: number | string): boolean {
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return BigInt(raw) > BigInt(MAX_IMPORTED_ID);
  return Number(raw) > MAX_IMPORTED_ID;
}

function refusalOf(row: DjangoUserRow, id: number, acceptUnsalted: boolean): RefusalCode | undefined {
  if (tooLarge(row.id)) return 'id_too_large';
  if (!Number.isInteger(id) || id < 1) return 'id_not_positive';
  if (normalizeEmail(row.email) === undefined) return 'email_invalid';
  const hash = row.password ?? '';
  const verdict = classifyDjangoHash(hash);
  if (verdict.kind === 'unknown') return 'hash_unknown';
  if (verdict.kind === 'refused' && !acceptUnsalted) return `hash_weak_${verdict.format}`;
  if (verdict.kind === 'supported' && djangoHashRefusal(hash)) return 'hash_out_of_bounds';
  return undefined;
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

/**
 * Django stores datetimes as text on SQLite ("2024-05-01 12:00:00.123456", UTC) and as timestamps on
 * PostgreSQL and MySQL. Undefined when the value is not a date between 1900 and 9999.
 */
export function toMillis(value: unknown): number | undefined {
  let parsed = Number.NaN;
  if (value instanceof Date) parsed = value.getTime();
  else if (typeof value === 'string') {
    const iso = value.includes('T') ? value : value.replace(' ', 'T');
    parsed = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  }
  return Number.isFinite(parsed) && parsed >= EARLIEST && parsed <= LATEST ? parsed : undefined;
}
