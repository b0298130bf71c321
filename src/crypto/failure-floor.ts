/**
 * The time a failed password check takes at least, so that time does not tell which accounts were imported
 * with a slow hash (issue 22). An account imported from Django keeps its hash (pbkdf2 at 870,000–1,000,000
 * iterations, bcrypt 12: 400–900 ms) until its first successful login replaces it with argon2id (~20–50 ms);
 * without a floor, a wrong password on such an account would answer ten times slower than on a native one or
 * on an unknown email, telling an attacker which emails exist and have not logged in since the move.
 *
 * So every failed check is answered no sooner than the slowest foreign hash this process has measured (the
 * slowest of the last WINDOW, with a margin), whatever the account: native, imported, unusable or unknown. A
 * server measures the slowest kind of hash its database holds at start and every hour (services.ts), so the
 * floor is in place before the first attempt on such an account. The wait is a timer, not work: it costs
 * latency on failures only, never CPU, and nothing at all while the database holds no foreign hash.
 *
 * Why not check slow hashes off the response path? The answer depends on the result, so the request must wait
 * for it either way; and transcoding the hashes at import is impossible without the passwords.
 */
const WINDOW = 32;
/** Slow checks vary with load: the floor stands this far above the slowest measured. */
const MARGIN = 1.25;

export class FailureFloor {
  readonly #recent: number[] = [];
  #floorMs = 0;

  constructor(
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** The time a failed check takes at least, in ms (0 while no foreign hash has been measured). */
  get ms(): number {
    return this.#floorMs;
  }

  /** A check of a foreign (non-native) hash took `ms`, dummy included when it failed. */
  observe(ms: number): void {
    this.#recent.push(ms);
    if (this.#recent.length > WINDOW) this.#recent.shift();
    this.#floorMs = Math.max(...this.#recent) * MARGIN;
  }

  /** Resolves once `floor` ms have passed since `startedAt` (a reading of the same clock). */
  async pad(startedAt: number): Promise<void> {
    const wait = startedAt + this.#floorMs - this.clock();
    if (wait > 0) await this.sleep(wait);
  }

  now(): number {
    return this.clock();
  }
}
