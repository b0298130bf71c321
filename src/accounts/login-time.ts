/**
 * Keeps the failure floor (crypto/failure-floor.ts) at the cost of the slowest kind of hash the database
 * holds, so a wrong password takes as long on every account as on the slowest imported one. A server measures
 * one hash of each kind and cost found among its foreign hashes at start and then every hour (an import made
 * meanwhile brings new ones). Nothing is measured, and nothing waits, while every hash is Ras's own.
 */
import { readStoredHash } from '../crypto/hash-format.js';
import type { AccountsContext } from './context.js';

const SAMPLE = 500;
export const REMEASURE_MS = 60 * 60 * 1000;

/** Measures one stored hash of each kind and cost among a sample of the foreign ones; returns how many. */
export async function measureForeignHashes(
  ctx: Pick<AccountsContext, 'store' | 'passwords'>,
): Promise<number> {
  const kinds = new Map<string, string>();
  for (const encoded of await ctx.store.users.foreignHashes(SAMPLE)) {
    const reading = readStoredHash(encoded);
    if (!reading.ok) continue;
    const { hash } = reading;
    const key =
      hash.kind === 'argon2'
        ? `argon2 ${hash.memoryKiB} ${hash.time} ${hash.parallelism}`
        : hash.kind === 'pbkdf2'
          ? `pbkdf2 ${hash.digest} ${hash.iterations}`
          : hash.kind === 'bcrypt'
            ? `bcrypt ${hash.cost}`
            : `scrypt ${hash.N} ${hash.r} ${hash.p}`;
    if (!kinds.has(key)) kinds.set(key, encoded);
  }
  for (const encoded of kinds.values()) await ctx.passwords.measure(encoded);
  return kinds.size;
}
