/**
 * Bounds on the work a stored hash may ask for. A hash's parameters travel with it, so an imported (or
 * tampered) row could otherwise make one unauthenticated login pin a hasher thread for hours
 * (`pbkdf2_sha256$2000000000$…`) or take a gigabyte (`m=1048576`). A hash outside these bounds is never
 * computed: the login is answered as a wrong password and logged as a security event. The same bounds refuse
 * such rows at import. hash-format.ts reads every hash against them. Each bound is well above what Django makes by default (pbkdf2 1,000,000 iterations in
 * Django 5.2, bcrypt cost 12, argon2 m=100 MiB t=2 p=8, scrypt N=2^14 r=8 p=1 = 16 MiB). Memory is capped at
 * 128 MiB rather than 64: Django's own argon2 default (m=102400 KiB) would not fit in 64.
 */
export const HASH_LIMITS = {
  pbkdf2MaxIterations: 5_000_000,
  bcryptMaxCost: 16,
  /** argon2 and scrypt memory, in KiB (128 MiB). */
  maxMemoryKiB: 128 * 1024,
  argon2MaxTime: 16,
  argon2MaxParallelism: 16,
  scryptMaxParallelism: 16,
} as const;
