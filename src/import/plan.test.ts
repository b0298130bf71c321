import { describe, expect, it } from 'vitest';
import { planUserBatch, toBoolean, toMillis } from './plan.js';

const row = (over: Partial<Parameters<typeof planUserBatch>[0][number]>) => ({
  id: 1,
  email: 'User@Example.com',
  password: 'pbkdf2_sha256$1000000$salt$aGFzaA==',
  is_active: 1,
  date_joined: '2024-05-01 12:00:00.123456',
  ...over,
});

describe('planUserBatch', () => {
  it('keeps a valid row with its email normalized, its state and its join date', () => {
    const { candidates, refusals } = planUserBatch([row({})], { acceptUnsalted: false });
    expect(refusals).toEqual([]);
    expect(candidates).toEqual([
      {
        id: 1,
        email: 'user@example.com',
        passwordHash: 'pbkdf2_sha256$1000000$salt$aGFzaA==',
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
      { acceptUnsalted: false },
    );
    expect(plan.refusals.map((r) => [r.id, r.reason])).toEqual([
      [2, 'invalid email address'],
      [3, 'unknown password hash format'],
      [4, 'weak legacy password hash (md5: a fast digest); --accept-unsalted imports it'],
    ]);
    expect(plan.candidates).toMatchObject([{ id: 5, unusable: true, isActive: false }]);
  });

  it('imports unsalted hashes when told to', () => {
    const plan = planUserBatch([row({ password: 'sha1$$0123456789abcdef0123456789abcdef01234567' })], {
      acceptUnsalted: true,
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
    expect(toMillis(new Date(5))).toBe(5);
  });
});
