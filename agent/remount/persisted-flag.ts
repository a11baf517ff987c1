/** The remounter's "remount needed" flag in memory, written to its state file whenever a crash must not lose a change. */
import {
  MAX_KEPT_REASONS,
  addFlagReason,
  clearFlagThrough,
  clearRemountNeeded,
  readRemountNeeded,
  recordFlagAttempt,
  recordFlagError,
  remountNeededPath,
  writeRemountNeeded,
  type FlagReason,
  type RemountNeeded,
} from './remount-needed.ts';
import type { RemountRequest } from './remount-request.ts';

/** Told when the state file cannot be read or written: the remount goes on, the caller reports it. */
export type FlagFileProblem = (cause: unknown, what: string) => void;

/**
 * Holds what is pending for one remounter and mirrors it to `remount-needed.json` in its state dir: the change to
 * "needed" at once, later reasons before the next attempt, each failure, and the removal after a fresh remount.
 * Never throws on file errors; it tells `onProblem` and keeps the flag in memory.
 */
export class PersistedFlag {
  readonly #file: string;
  readonly #onProblem: FlagFileProblem;
  #flag: RemountNeeded | undefined;

  constructor(stateDir: string, onProblem: FlagFileProblem) {
    this.#file = remountNeededPath(stateDir);
    this.#onProblem = onProblem;
  }

  /** What is pending, or undefined when nothing is. */
  get current(): RemountNeeded | undefined {
    return this.#flag;
  }

  /** The reasons a run that answers tickets up to `ticket` covers (a restored reason counts as ticket 0). */
  reasonsThrough(ticket: number): FlagReason[] {
    return (this.#flag?.reasons ?? []).filter((r) => (r.ticket ?? 0) <= ticket);
  }

  /**
   * The flag an earlier process left in the file, or undefined when none. A file that cannot be read or parsed
   * counts as a pending manual request (a needless remount is harmless; a lost one is not), and is reported.
   */
  readLeftover(now: number): RemountNeeded | undefined {
    try {
      return readRemountNeeded(this.#file);
    } catch (cause) {
      this.#onProblem(cause, 'the remount-needed flag could not be read; remounting to be safe');
      return addFlagReason(undefined, { source: 'manual', by: 'overlay-warden (unreadable remount-needed.json)' }, now, 0);
    }
  }

  /** Puts a leftover flag in front of what this process flagged since. Not written: the file holds it already. */
  restore(leftover: RemountNeeded): void {
    const current = this.#flag;
    this.#flag =
      current === undefined
        ? leftover
        : { ...leftover, requests: leftover.requests + current.requests, reasons: [...leftover.reasons, ...current.reasons].slice(-MAX_KEPT_REASONS) };
  }

  /** Adds a request with its ticket. The change to "needed" is written at once; later reasons before the next attempt. */
  add(request: RemountRequest, at: number, ticket: number): void {
    const first = this.#flag === undefined;
    this.#flag = addFlagReason(this.#flag, request, at, ticket);
    if (first) this.#write();
  }

  /** Counts an attempt starting at `at`, and writes the flag with every reason so far. */
  recordAttempt(at: number): void {
    if (this.#flag !== undefined) this.#flag = recordFlagAttempt(this.#flag, at);
    this.#write();
  }

  /** Keeps a failed attempt's error (shown by `status` and after a restart), and writes it. */
  recordError(error: { readonly code: string; readonly message: string }, at: number): void {
    if (this.#flag !== undefined) this.#flag = recordFlagError(this.#flag, error, at);
    this.#write();
  }

  /** After a fresh remount that answered tickets up to `coveredUpTo`: keeps only later requests; removes the file if none. */
  clearThrough(coveredUpTo: number, lastTicket: number, now: number): void {
    this.#flag = clearFlagThrough(this.#flag, coveredUpTo, lastTicket, now);
    this.#write();
  }

  #write(): void {
    try {
      if (this.#flag === undefined) clearRemountNeeded(this.#file);
      else writeRemountNeeded(this.#file, this.#flag);
    } catch (cause) {
      this.#onProblem(cause, 'the remount-needed flag could not be saved; a crash now would lose it');
    }
  }
}
