/**
 * Bounds on the work a stored hash may ask for. A hash's parameters travel with it, so an imported (or
 * tampered) row could otherwise make one unauthenticated login pin a hasher thread for hours
 * (`pbkdf2_sha256$2000000000$…`) or take a gigabyte (`m=1048576`). A hash outside these bounds is never
 * computed: the login is answered as a wrong password and logged as a security event. The same bounds refuse
 * such rows at import. Each bound is well above what Django makes by default (pbkdf2 1,000,000 iterations in
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

const ARGON2_PHC = /^\$argon2(?:id|i|d)\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** Why an argon2 PHC string is refused, or undefined when its parameters are within bounds. */
export function argon2ParamsRefusal(phc: string): string | undefined {
  const match = ARGON2_PHC.exec(phc);
  if (!match) return undefined; // malformed: the verifier itself refuses it, at no cost
  const [m, t, p] = match.slice(1).map(Number) as [number, number, number];
  if (m > HASH_LIMITS.maxMemoryKiB) return `argon2 memory ${m} KiB over ${HASH_LIMITS.maxMemoryKiB}`;
  if (t > HASH_LIMITS.argon2MaxTime) return `argon2 time cost ${t} over ${HASH_LIMITS.argon2MaxTime}`;
  if (p > HASH_LIMITS.argon2MaxParallelism)
    return `argon2 parallelism ${p} over ${HASH_LIMITS.argon2MaxParallelism}`;
  return undefined;
}

export function pbkdf2IterationsRefusal(iterations: number): string | undefined {
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    return 'pbkdf2 iterations are not a positive integer';
  if (iterations > HASH_LIMITS.pbkdf2MaxIterations)
    return `pbkdf2 iterations ${iterations} over ${HASH_LIMITS.pbkdf2MaxIterations}`;
  return undefined;
}

/** bcrypt's cost is the two digits after `$2b$`. */
export function bcryptCostRefusal(bcryptHash: string): string | undefined {
  const cost = Number(/^\$2[abxy]?\$(\d\d)\$/.exec(bcryptHash)?.[1] ?? NaN);
  if (!Number.isInteger(cost)) return undefined; // malformed: the verifier refuses it
  if (cost > HASH_LIMITS.bcryptMaxCost) return `bcrypt cost ${cost} over ${HASH_LIMITS.bcryptMaxCost}`;
  return undefined;
}

/** scrypt needs 128·N·r bytes. */
export function scryptParamsRefusal(N: number, r: number, p: number): string | undefined {
  if (![N, r, p].every((v) => Number.isSafeInteger(v) && v > 0))
    return 'scrypt parameters are not positive integers';
  const kib = (128 * N * r) / 1024;
  if (kib > HASH_LIMITS.maxMemoryKiB) return `scrypt memory ${kib} KiB over ${HASH_LIMITS.maxMemoryKiB}`;
  if (p > HASH_LIMITS.scryptMaxParallelism)
    return `scrypt parallelism ${p} over ${HASH_LIMITS.scryptMaxParallelism}`;
  return undefined;
}
