/** Watches the worker threads this process starts (Node's `worker_threads` diagnostics channel), to see each one exit. */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';

/** One worker thread seen starting, and the promise of its 'exit' event. */
export interface TrackedThread {
  readonly worker: Worker;
  readonly threadId: number;
  readonly exited: Promise<void>;
}

/**
 * Records every worker thread started from now until `stop()`: whatever starts it (piscina here), each Worker is
 * published on the channel as it is made. Threads started before are not seen.
 */
export class WorkerThreadTracker {
  readonly threads: TrackedThread[] = [];
  readonly #onCreated = (message: unknown): void => {
    const { worker } = message as { worker: Worker };
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.threads.push({ worker, threadId: worker.threadId, exited });
  };

  constructor() {
    diagnosticsChannel.subscribe('worker_threads', this.#onCreated);
  }

  /** Resolves once every thread seen so far has emitted 'exit'. */
  async allExited(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.exited));
  }

  stop(): void {
    diagnosticsChannel.unsubscribe('worker_threads', this.#onCreated);
  }
}
