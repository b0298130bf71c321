import { describe, expect, it } from 'vitest';
import { planUserBatch, toBoolean, toMillis } from './plan.js';

/** Well formed: a 32-byte digest, as Django writes it. */
const GOOD_HASH = 'pbkdf2_sha256$1000000$salt$' + 'A'.repeat(43) + '=';
const NOW = Date.UTC(2026, 11, 2);

const row = (over: Partial<Parameters<typeof planUserBatch>[0][number]>) => ({
  id: 1,
  email: 'User@Example.com',
  password: GOOD_HASH,
  is_active: 1,
  date_joined: '2024-05-01 12:00:00.123456',
  ...over,
});

describe('planUserBatch', () => {
  it('keeps a valid row with its email normalized, its state and its join date', () => {
    const { candidates, refusals } = planUserBatch([row({})], { acceptUnsalted: false, now: NOW });
    expect(refusals).toEqual([]);
    expect(candidates).toEqual([
      {
        id: 1,
        email: 'user@example.com',
        passwordHash: GOOD_HASH,
        isActive: true,
        dateJoined: Date.parse('2024-05-01T12:00:00.123Z'),
        unusable: false,
      },
    ]);
  });

  it('refuses invalid emails, unknown formats and unsalted hashes, each with its reason', () => {
    const plan = planUserBatch(
      [
        row({ id: 2, email: 'not an email' }),
        row({ id: 3, password: 'whirlpool$1$x$y' }),
        row({ id: 4, password: 'md5$salt$0123456789abcdef0123456789abcdef' }),
        row({ id: 5, password: '!unusable', is_active: 0 }),
      ],
      { acceptUnsalted: false, now: NOW },
    );
    expect(plan.refusals.map((r) => [r.id, r.code])).toEqual([
      [2, 'email_invalid'],
      [3, 'hash_unknown'],
      [4, 'hash_weak_md5'],
    ]);
    expect(plan.candidates).toMatchObject([{ id: 5, unusable: true, isActive: false }]);
  });

  it('refuses ids that cannot be Ras ids and hashes beyond the verifier bounds, never aborting the batch', () => {
    const plan = planUserBatch(
      [
        row({ id: -3 }),
        row({ id: 0 }),
        row({ id: '9007199254740992' }),
        row({ id: '2147483655' }),
        row({ id: 6, password: 'pbkdf2_sha256$2000000000$salt$aGFzaA==' }),
        row({ id: 7, password: 'bcrypt$$2b$31$abcdefghijklmnopqrstuuVv0rHQyzqD5WxsmdXMOsVqYt6Bm8Gh2' }),
        row({ id: 8, password: 'argon2$argon2id$v=19$m=1048576,t=2,p=1$c2FsdA$aGFzaA' }),
        row({ id: 9, password: 'scrypt$1048576$salt$8$1$aGFzaA==' }),
        row({ id: 10 }),
      ],
      { acceptUnsalted: false, now: NOW },
    );
    expect(plan.refusals.map((r) => [r.id, r.code])).toEqual([
      [-3, 'id_not_positive'],
      [0, 'id_not_positive'],
      [9007199254740992, 'id_too_large'],
      [6, 'hash_out_of_bounds'],
      [7, 'hash_out_of_bounds'],
      [8, 'hash_out_of_bounds'],
      [9, 'hash_out_of_bounds'],
    ]);
    expect(plan.candidates.map((c) => c.id)).toEqual([2147483655, 10]);
  });

  it.each([1e300, 'not a date', null, '0001-01-01 00:00:00', -1e15])(
    'imports a date_joined of %j as the import time, and reports it',
    (value) => {
      const plan = planUserBatch([row({ date_joined: value })], { acceptUnsalted: false, now: NOW });
      expect(plan.candidates[0]!.dateJoined).toBe(NOW);
      expect(plan.fallbacks).toEqual([{ code: 'date_joined_unreadable', id: 1 }]);
    },
  );

  it('imports unsalted hashes when told to', () => {
    const plan = planUserBatch([row({ password: 'sha1$$0123456789abcdef0123456789abcdef01234567' })], {
      acceptUnsalted: true,
      now: NOW,
    });
    expect(plan.candidates).toHaveLength(1);
  });
});

describe('Django values', () => {
  it.each([true, 1, '1', 't', 'true'])('reads %j as active', (value) => expect(toBoolean(value)).toBe(true));
  it.each([false, 0, '0', 'f', null])('reads %j as inactive', (value) =>
    expect(toBoolean(value)).toBe(false),
  );
  it('reads SQLite text and PostgreSQL dates as UTC milliseconds', () => {
    expect(toMillis('2024-05-01 12:00:00')).toBe(Date.parse('2024-05-01T12:00:00Z'));
    expect(toMillis('2024-05-01T12:00:00+02:00')).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(toMillis(new Date(Date.UTC(2020, 0, 1)))).toBe(Date.UTC(2020, 0, 1));
    expect(toMillis(new Date(Number.NaN))).toBeUndefined();
  });
});
