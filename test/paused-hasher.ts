import { PasswordHasher, type Verification } from '../src/crypto/passwords.js';

/** A pause between a password check and what follows it: the check has run, its caller waits for `release`. */
export interface Pause {
  /** Resolves once a verification has been computed and is being held. */
  reached: Promise<void>;
  release(): void;
}

/**
 * The real hasher, with a hook to force a race on purpose: `pauseNextVerification()` holds the next
 * verification's result (computed for real) until released, so a test can run a password change, a
 * deactivation or a flood of other requests exactly between one request's check and its write.
 * `holdAll()` holds every verification, counting how many got that far.
 */
export class PausedHasher extends PasswordHasher {
  /** Verifications that reached the hasher (started), held or not. */
  started = 0;
  #pauses: { reached: () => void; released: Promise<void> }[] = [];
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;

  pauseNextVerification(): Pause {
    let reached!: () => void;
    let release!: () => void;
    const pause = {
      reached: new Promise<void>((resolve) => (reached = resolve)),
      release: () => release(),
    };
    this.#pauses.push({ reached, released: new Promise<void>((resolve) => (release = resolve)) });
    return pause;
  }

  /** Holds every verification before it starts until `openGate()`. */
  holdAll(): void {
    this.#gate = new Promise<void>((resolve) => (this.#openGate = resolve));
  }

  openGate(): void {
    this.#openGate?.();
    this.#gate = undefined;
  }

  override async verify(
    storedHash: string,
    password: string,
    original?: string,
    signal?: AbortSignal,
  ): Promise<Verification> {
    this.started++;
    if (this.#gate) await this.#gate;
    const pause = this.#pauses.shift();
    const verification = await super.verify(storedHash, password, original, signal);
    if (pause) {
      pause.reached();
      await pause.released;
    }
    return verification;
  }
}

/** The real hasher, with its slots occupiable on purpose: fill the queue, then see what a request gets. */
export class OccupiableHasher extends PasswordHasher {
  /** Takes one slot (running or queued) until `until` settles. */
  occupy(until: Promise<void>): Promise<void> {
    return this.schedule(() => until);
  }
}
