/** Prints the median time, in ms, of one argon2id verify with Ras's parameters (run pinned by bench/run.ts). */
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../src/crypto/passwords.js';

const password = process.argv[2] ?? 'bench password';
const stored = await hash(password, ARGON2_PARAMS);
const times: number[] = [];
for (let i = 0; i < 15; i++) {
  const started = performance.now();
  await verify(stored, password);
  times.push(performance.now() - started);
}
console.log(times.sort((a, b) => a - b)[7]);
