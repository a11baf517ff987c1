/** Runs async tasks one at a time, in the order they were handed over; closing skips the tasks not yet started. */

/**
 * A chain of tasks: each starts once the one before has settled, so tasks never interleave (a watcher's batches
 * then see the state earlier batches left). A task that throws is reported to `onError` and the chain goes on.
 */
export class SerialQueue {
  readonly #onError: (cause: unknown) => void;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(onError: (cause: unknown) => void) {
    this.#onError = onError;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `task` after every task handed over before it; never when the queue is closed by the time its turn comes. */
  enqueue(task: () => Promise<void> | void): void {
    this.#tail = this.#tail.then(async () => {
      if (this.#closed) return;
      try {
        await task();
      } catch (cause) {
        this.#onError(cause);
      }
    });
  }

  /** Resolves once every task handed over so far has run (or been skipped). Never rejects. */
  async idle(): Promise<void> {
    await this.#tail;
  }

  /** From now on, skips every task that has not started (the running one, if any, goes on: see idle()). Idempotent. */
  close(): void {
    this.#closed = true;
  }
}
