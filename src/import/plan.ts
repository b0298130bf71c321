import { normalizeEmail } from '../accounts/email.js';
import { classifyDjangoHash } from '../crypto/django-passwords.js';
import type { DjangoUserRow } from './django-source.js';

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
  refusals: { reason: string; id: number }[];
}

/**
 * Decides, without touching any database, which rows of a batch may be imported and why the others may not:
 * an invalid email, an unknown hash format, or an unsalted legacy hash (unless `acceptUnsalted`). Each
 * row's hash is classified once.
 */
export function planUserBatch(rows: DjangoUserRow[], options: { acceptUnsalted: boolean }): UserBatchPlan {
  const plan: UserBatchPlan = { candidates: [], refusals: [] };
  for (const row of rows) {
    const id = Number(row.id);
    const email = normalizeEmail(row.email);
    const hash = row.password ?? '';
    const verdict = classifyDjangoHash(hash);
    if (email === undefined) plan.refusals.push({ reason: 'invalid email address', id });
    else if (verdict.kind === 'unknown') plan.refusals.push({ reason: 'unknown password hash format', id });
    else if (verdict.kind === 'refused' && !options.acceptUnsalted) {
      plan.refusals.push({
        reason: `weak legacy password hash (${verdict.format}: a fast digest); --accept-unsalted imports it`,
        id,
      });
    } else {
      plan.candidates.push({
        id,
        email,
        passwordHash: hash,
        isActive: toBoolean(row.is_active),
        dateJoined: toMillis(row.date_joined),
        unusable: verdict.kind === 'unusable',
      });
    }
  }
  return plan;
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

/** Django stores datetimes as text on SQLite ("2024-05-01 12:00:00.123456", UTC) and as timestamptz on PostgreSQL. */
export function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const iso = value.includes('T') ? value : value.replace(' ', 'T');
    const parsed = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Date.now();
}
