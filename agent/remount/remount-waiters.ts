/** The requests waiting for a remount's outcome, by ticket: one run answers every ticket it covers with one outcome. */
import type { RemountOutcome } from './remount-events.ts';

interface Waiter {
  readonly ticket: number;
  readonly resolve: (outcome: RemountOutcome) => void;
}

/**
 * Tickets are the planner's (1, 2, …; 0 is the flag restored at start). A run covering tickets up to N answers
 * every waiter with a ticket ≤ N, and counts as answering the requests since the previous run plus the restored ones.
 */
export class RemountWaiters {
  #waiters: Waiter[] = [];
  #answeredUpTo = 0;
  #restoredRequests = 0;

  /** How many requests are waiting. */
  get size(): number {
    return this.#waiters.length;
  }

  /** The outcome of the run that covers `ticket`. */
  wait(ticket: number): Promise<RemountOutcome> {
    return new Promise<RemountOutcome>((resolve) => this.#waiters.push({ ticket, resolve }));
  }

  /** The outcome of the run that answers a flag restored at start, which stood for `requests` requests. */
  waitRestored(requests: number): Promise<RemountOutcome> {
    this.#restoredRequests = requests;
    return this.wait(0);
  }

  /** How many requests a run covering tickets up to `coversUpTo` answers. */
  answering(coversUpTo: number): number {
    return coversUpTo - this.#answeredUpTo + this.#restoredRequests;
  }

  /** Resolves every waiter the run covered with its outcome; later tickets keep waiting. */
  answer(coversUpTo: number, outcome: RemountOutcome): void {
    this.#answeredUpTo = coversUpTo;
    this.#restoredRequests = 0;
    const answered = this.#waiters.filter((w) => w.ticket <= coversUpTo);
    this.#waiters = this.#waiters.filter((w) => w.ticket > coversUpTo);
    for (const waiter of answered) waiter.resolve(outcome);
  }

  /** Resolves every waiter with `outcome` (the remounter is closing). */
  answerAll(outcome: RemountOutcome): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(outcome);
  }
}
