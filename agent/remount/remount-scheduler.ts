/** Drives the pure remount planner in time: keeps its state, arms its one timer, and hands on what it asks for. */
import {
  INITIAL_REMOUNT_PLAN,
  planRemount,
  retryDelay,
  type RemountPlanAction,
  type RemountPlanEvent,
  type RemountPlanSettings,
  type RemountPlanState,
} from './remount-plan.ts';

/** What the planner asks the remounter to do (the timer is the scheduler's own). */
export interface ScheduledWork {
  /** Start attempt `attempt` of run `run`, which answers tickets up to `coversUpTo`. */
  readonly startAttempt: (run: number, attempt: number, coversUpTo: number) => void;
  /** Run `run` is over after `attempts` attempts (`ok: false`: it gave up); answer tickets up to `coversUpTo`. */
  readonly finishRun: (run: number, ok: boolean, attempts: number, coversUpTo: number) => void;
}

/**
 * Coalescing, single flight and retries are decided by `planRemount`; this feeds it events (flags, the timer
 * firing, attempts ending) and carries out its actions. After `close()` the planner ignores everything and no
 * timer is left armed.
 */
export class RemountScheduler {
  readonly #settings: RemountPlanSettings;
  readonly #now: () => number;
  readonly #work: ScheduledWork;
  #state: RemountPlanState = INITIAL_REMOUNT_PLAN;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: RemountPlanSettings, now: () => number, work: ScheduledWork) {
    this.#settings = Object.freeze({ ...settings });
    this.#now = now;
    this.#work = work;
  }

  /** Where the planner is. */
  get state(): RemountPlanState {
    return this.#state;
  }

  /** Feeds one event to the planner and carries out its actions; for a flag, says whether it joined a scheduled run. */
  apply(event: RemountPlanEvent): { readonly coalesced?: boolean } {
    const step = planRemount(this.#state, event, this.#settings);
    this.#state = step.state;
    for (const action of step.actions) this.#act(action);
    return step;
  }

  /** The wait before a retry if the running attempt fails now, or undefined when the run would give up. */
  retryDelay(retryable: boolean): number | undefined {
    return retryDelay(this.#state, retryable, this.#settings);
  }

  /** Closes the plan and clears the timer. Idempotent. */
  close(): void {
    this.apply({ type: 'close' });
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #act(action: RemountPlanAction): void {
    switch (action.type) {
      case 'wait-until':
        clearTimeout(this.#timer);
        this.#timer = setTimeout(
          () => {
            this.#timer = undefined;
            this.apply({ type: 'due', at: this.#now() });
          },
          Math.max(0, action.at - this.#now()),
        );
        return;
      case 'start-attempt':
        this.#work.startAttempt(action.run, action.attempt, action.coversUpTo);
        return;
      case 'finish-run':
        this.#work.finishRun(action.run, action.ok, action.attempts, action.coversUpTo);
        return;
    }
  }
}
