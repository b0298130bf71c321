/**
 * One piece of background work done in rounds: a round runs when woken (after a commit that queued work) and
 * every `pollMs` besides; a wake during a round asks for one more right after it; rounds never overlap. The mail
 * and webhook deliverers are each one of these.
 */
export class Rounds {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly failed: (error: unknown) => void,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.pollMs);
    this.#timer.unref();
    this.wake();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** A round is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Runs a round now (after the current one, if one is running). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.round()
      .catch(this.failed)
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Resolves when no round is running or asked for. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** No new round starts; resolves once the one in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }
}
