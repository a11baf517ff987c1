import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  backoffDelay,
  INITIAL_REMOUNT_PLAN,
  MAX_BACKOFF_MS,
  planRemount,
  type RemountPlanAction,
  type RemountPlanEvent,
  type RemountPlanSettings,
  type RemountPlanState,
} from '../../agent/remount/index.ts';

const SETTINGS: RemountPlanSettings = { coalesceMs: 1000, attempts: 3, backoffMs: 2000 };

/** Feeds events in order; returns the final state and every action, in order. */
function feed(
  events: readonly RemountPlanEvent[],
  settings = SETTINGS,
  from: RemountPlanState = INITIAL_REMOUNT_PLAN,
): { state: RemountPlanState; actions: RemountPlanAction[]; coalesced: number } {
  let state = from;
  const actions: RemountPlanAction[] = [];
  let coalesced = 0;
  for (const event of events) {
    const step = planRemount(state, event, settings);
    state = step.state;
    actions.push(...step.actions);
    if (step.coalesced === true) coalesced++;
  }
  return { state, actions, coalesced };
}

const flags = (count: number, start: number, firstTicket: number, spacing = 1): RemountPlanEvent[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'flag', at: start + i * spacing, ticket: firstTicket + i }));

const starts = (actions: readonly RemountPlanAction[]) => actions.filter((a) => a.type === 'start-attempt');
const finishes = (actions: readonly RemountPlanAction[]) => actions.filter((a) => a.type === 'finish-run');

describe('planRemount', () => {
  it('coalesces a burst of 1,000 flags inside the window into one run', () => {
    // Flags at t = 0…999 ms; the window opened by the first closes at 0 + 1000.
    const { state, actions, coalesced } = feed([...flags(1000, 0, 1), { type: 'due', at: 1000 }]);
    assert.deepEqual(starts(actions), [{ type: 'start-attempt', run: 1, attempt: 1, coversUpTo: 1000 }]);
    assert.deepEqual(
      actions.filter((a) => a.type === 'wait-until'),
      [{ type: 'wait-until', at: 1000 }],
    );
    assert.equal(coalesced, 999);
    assert.equal(state.phase, 'running');
  });

  it('measures the window from the first flag, so a steady stream of flags cannot postpone the remount', () => {
    // Flags every 300 ms: a sliding window would move to 900 + 1000; a fixed one stays at 0 + 1000.
    const { actions } = feed([...flags(4, 0, 1, 300), { type: 'due', at: 1000 }]);
    assert.deepEqual(actions, [
      { type: 'wait-until', at: 1000 },
      { type: 'start-attempt', run: 1, attempt: 1, coversUpTo: 4 },
    ]);
  });

  it('re-arms a timer that fired early instead of starting', () => {
    const { state, actions } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 999 },
    ]);
    assert.deepEqual(actions, [
      { type: 'wait-until', at: 1000 },
      { type: 'wait-until', at: 1000 },
    ]);
    assert.equal(state.phase, 'coalescing');
  });

  it('turns any number of flags during a run into exactly one follow-up run', () => {
    const { state, actions, coalesced } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      ...flags(100, 2000, 2),
      { type: 'attempt-ended', at: 2500, ok: true, retryable: true },
      { type: 'due', at: 3000 },
      { type: 'attempt-ended', at: 3500, ok: true, retryable: true },
    ]);
    assert.deepEqual(starts(actions), [
      { type: 'start-attempt', run: 1, attempt: 1, coversUpTo: 1 },
      { type: 'start-attempt', run: 2, attempt: 1, coversUpTo: 101 },
    ]);
    assert.deepEqual(finishes(actions), [
      { type: 'finish-run', run: 1, ok: true, attempts: 1, coversUpTo: 1 },
      { type: 'finish-run', run: 2, ok: true, attempts: 1, coversUpTo: 101 },
    ]);
    // The follow-up window opened with the first flag during the run (2000) and closes at 2000 + 1000.
    assert.ok(actions.some((a) => a.type === 'wait-until' && a.at === 3000));
    assert.equal(coalesced, 99);
    assert.equal(state.phase, 'idle');
  });

  it('starts the follow-up at once when its window closed during the run', () => {
    const { actions } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      { type: 'flag', at: 1100, ticket: 2 },
      { type: 'attempt-ended', at: 9000, ok: true, retryable: true },
    ]);
    assert.deepEqual(actions.at(-1), { type: 'wait-until', at: 9000 });
  });

  it('retries a failing run with exponential backoff, then gives up after `attempts`', () => {
    const { state, actions } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      { type: 'attempt-ended', at: 1100, ok: false, retryable: true },
      { type: 'due', at: 3100 },
      { type: 'attempt-ended', at: 3200, ok: false, retryable: true },
      { type: 'due', at: 7200 },
      { type: 'attempt-ended', at: 7300, ok: false, retryable: true },
    ]);
    assert.deepEqual(actions, [
      { type: 'wait-until', at: 1000 },
      { type: 'start-attempt', run: 1, attempt: 1, coversUpTo: 1 },
      { type: 'wait-until', at: 1100 + 2000 },
      { type: 'start-attempt', run: 1, attempt: 2, coversUpTo: 1 },
      { type: 'wait-until', at: 3200 + 4000 },
      { type: 'start-attempt', run: 1, attempt: 3, coversUpTo: 1 },
      { type: 'finish-run', run: 1, ok: false, attempts: 3, coversUpTo: 1 },
    ]);
    assert.equal(state.phase, 'idle');
  });

  it('starts afresh (attempt 1 of a new run) on a flag after giving up', () => {
    const gaveUp = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      { type: 'attempt-ended', at: 1100, ok: false, retryable: false },
    ]);
    assert.deepEqual(finishes(gaveUp.actions), [{ type: 'finish-run', run: 1, ok: false, attempts: 1, coversUpTo: 1 }]);
    const again = feed(
      [
        { type: 'flag', at: 5000, ticket: 2 },
        { type: 'due', at: 6000 },
      ],
      SETTINGS,
      gaveUp.state,
    );
    assert.deepEqual(starts(again.actions), [{ type: 'start-attempt', run: 2, attempt: 1, coversUpTo: 2 }]);
  });

  it('does not retry what cannot be retried (a refused command)', () => {
    const { actions } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      { type: 'attempt-ended', at: 1001, ok: false, retryable: false },
    ]);
    assert.equal(starts(actions).length, 1);
    assert.deepEqual(finishes(actions), [{ type: 'finish-run', run: 1, ok: false, attempts: 1, coversUpTo: 1 }]);
  });

  it('lets flags during a failed attempt or its backoff join the retry instead of a follow-up', () => {
    const { actions, state } = feed([
      { type: 'flag', at: 0, ticket: 1 },
      { type: 'due', at: 1000 },
      { type: 'flag', at: 1050, ticket: 2 },
      { type: 'attempt-ended', at: 1100, ok: false, retryable: true },
      { type: 'flag', at: 1200, ticket: 3 },
      { type: 'due', at: 3100 },
      { type: 'attempt-ended', at: 3200, ok: true, retryable: true },
    ]);
    assert.deepEqual(starts(actions).at(-1), { type: 'start-attempt', run: 1, attempt: 2, coversUpTo: 3 });
    assert.deepEqual(finishes(actions), [{ type: 'finish-run', run: 1, ok: true, attempts: 2, coversUpTo: 3 }]);
    assert.equal(state.phase, 'idle');
  });

  it('gives flags that arrived during the last failed attempt a fresh run', () => {
    const { actions } = feed(
      [
        { type: 'flag', at: 0, ticket: 1 },
        { type: 'due', at: 1000 },
        { type: 'flag', at: 1050, ticket: 2 },
        { type: 'attempt-ended', at: 1100, ok: false, retryable: true },
        { type: 'due', at: 2050 },
      ],
      { ...SETTINGS, attempts: 1 },
    );
    assert.deepEqual(finishes(actions), [{ type: 'finish-run', run: 1, ok: false, attempts: 1, coversUpTo: 1 }]);
    assert.deepEqual(starts(actions).at(-1), { type: 'start-attempt', run: 2, attempt: 1, coversUpTo: 2 });
  });

  it('ignores events that do not apply: stale timers, results while idle, anything after close', () => {
    assert.deepEqual(planRemount(INITIAL_REMOUNT_PLAN, { type: 'due', at: 5 }, SETTINGS), { state: INITIAL_REMOUNT_PLAN, actions: [] });
    assert.deepEqual(planRemount(INITIAL_REMOUNT_PLAN, { type: 'attempt-ended', at: 5, ok: true, retryable: true }, SETTINGS).actions, []);
    const closed = feed([{ type: 'flag', at: 0, ticket: 1 }, { type: 'close' }, { type: 'due', at: 1000 }, { type: 'flag', at: 1001, ticket: 2 }]);
    assert.equal(closed.state.phase, 'closed');
    assert.deepEqual(closed.actions, [{ type: 'wait-until', at: 1000 }]);
  });

  it('covers a flag restored from the state file (ticket 0) with the first run', () => {
    const { actions } = feed([
      { type: 'flag', at: 0, ticket: 0 },
      { type: 'due', at: 1000 },
      { type: 'attempt-ended', at: 1200, ok: true, retryable: true },
    ]);
    assert.deepEqual(finishes(actions), [{ type: 'finish-run', run: 1, ok: true, attempts: 1, coversUpTo: 0 }]);
  });

  it('doubles the backoff per failed attempt and caps it', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelay(n, 2000)),
      [2000, 4000, 8000, 16000],
    );
    assert.equal(backoffDelay(20, 2000), MAX_BACKOFF_MS);
    assert.equal(backoffDelay(3, 0), 0);
  });

  it('keeps its invariants for any interleaving of flags, timers and results', () => {
    // A driver that honours the actions like the Remounter does, with a fake clock and random outcomes.
    const step = fc.oneof(
      fc.record({ kind: fc.constant('flag' as const), gap: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant('tick' as const), gap: fc.integer({ min: 0, max: 5000 }) }),
      fc.record({ kind: fc.constant('end' as const), ok: fc.boolean(), retryable: fc.boolean(), gap: fc.integer({ min: 0, max: 2000 }) }),
    );
    const settings = fc.record({
      coalesceMs: fc.integer({ min: 0, max: 2000 }),
      attempts: fc.integer({ min: 1, max: 4 }),
      backoffMs: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(settings, fc.array(step, { maxLength: 80 }), (s, steps) => {
        let state = INITIAL_REMOUNT_PLAN;
        let now = 0;
        let timer: number | undefined;
        let running = false;
        let ticket = 0;
        let answeredUpTo = 0;
        let runs = 0;
        const apply = (event: RemountPlanEvent): void => {
          const next = planRemount(state, event, s);
          state = next.state;
          for (const action of next.actions) {
            if (action.type === 'wait-until') timer = action.at;
            if (action.type === 'start-attempt') {
              assert.equal(running, false, 'single flight: an attempt started while another ran');
              running = true;
              if (action.attempt === 1) runs++;
            }
            if (action.type === 'finish-run') {
              assert.ok(action.coversUpTo >= answeredUpTo, 'answers go forward');
              answeredUpTo = action.coversUpTo;
            }
          }
        };
        const fire = (): void => {
          if (timer !== undefined && timer <= now) {
            timer = undefined;
            apply({ type: 'due', at: now });
          }
        };
        for (const st of steps) {
          now += st.gap;
          fire();
          if (st.kind === 'flag') apply({ type: 'flag', at: now, ticket: ++ticket });
          if (st.kind === 'end' && running) {
            running = false;
            apply({ type: 'attempt-ended', at: now, ok: st.ok, retryable: st.retryable });
          }
        }
        // Drain: every attempt succeeds from here on; every ticket must be answered, with no timer left.
        for (let guard = 0; guard < 100 && (state.phase !== 'idle' || running); guard++) {
          if (running) {
            running = false;
            apply({ type: 'attempt-ended', at: now, ok: true, retryable: true });
          } else if (timer !== undefined) {
            now = Math.max(now, timer);
            fire();
          }
        }
        assert.equal(state.phase, 'idle');
        assert.equal(answeredUpTo, ticket, 'every request was answered');
        assert.ok(runs <= ticket, 'never more runs than requests');
      }),
      { numRuns: 500 },
    );
  });
});
