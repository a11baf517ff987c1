/**
 * The agent part of the demo: runs the real agent on the demo overlay, changes the layers the way Nix and a
 * template update do, and shows what the agent sees and does (drift, stale view, remount, check afterwards).
 * It writes only to the demo's own scratch layers.
 */
import { on } from 'node:events';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Agent } from '../agent.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { RemountEvent } from '../remount/index.ts';
import type { DemoStore } from './store-builder.ts';
import { DemoStoreError } from './demo-store-error.ts';

export interface AgentTourOptions {
  readonly config: Config;
  readonly store: Pick<DemoStore, 'lower' | 'upper' | 'mergedStoreDir' | 'storeDir'> & {
    /** A writable bind of the (read-only) lower store dir: where the tour grows the lower store. */
    readonly lowerWritableStoreDir: string;
  };
  readonly logger: Logger;
  /** Narration for people. */
  readonly say: (text: string) => void;
  /** Each expectation as soon as it is judged. */
  readonly report: (check: TourCheck) => void;
  /** Runs while the agent still runs, after the changes (the demo's real `status`); resolves whether it came out as expected. */
  readonly whileRunning?: () => Promise<boolean>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
}

/** How long the tour waits for the agent to finish reacting to one change. */
const STEP_TIMEOUT_MS = 30_000;

/**
 * Starts listening at once (before the change is made) and resolves with the agent's next finished remount run
 * (verified fresh, or given up); events are buffered, so several emitted in one tick are all seen. Rejects with
 * DemoStoreError DEMO_TOUR_TIMEOUT when the agent does not finish within the step timeout.
 */
function nextRemountEnd(agent: Agent, signal: AbortSignal, what: string): Promise<RemountEvent> {
  const stop = new AbortController();
  const timeout = AbortSignal.any([signal, stop.signal, AbortSignal.timeout(STEP_TIMEOUT_MS)]);
  const events = on(agent, 'remount', { signal: timeout });
  return (async () => {
    try {
      for await (const [event] of events as AsyncIterable<[RemountEvent]>) {
        if (event.type === 'remount-gave-up' || (event.type === 'remount-verified' && event.fresh)) return event;
      }
      throw new Error('unreachable: the event stream ended without an abort');
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new DemoStoreError('DEMO_TOUR_TIMEOUT', `the agent did not finish a remount within ${STEP_TIMEOUT_MS / 1000} s after ${what}`, {
        cause: error,
        hint: 'see the agent log above',
      });
    } finally {
      stop.abort();
    }
  })();
}

/** One thing the tour expects of the agent, and whether it came out so. */
export interface TourCheck {
  readonly what: string;
  readonly expected: string;
  readonly asExpected: boolean;
}

/** What the tour saw: each expectation and whether it held; `ok` when all did (and `whileRunning` said so). */
export interface AgentTourResult {
  readonly ok: boolean;
  readonly checks: readonly TourCheck[];
}

/**
 * Runs the tour: starts the agent, grows the lower store (through `lowerWritableStoreDir`, a writable bind of the
 * read-only lower store dir), deletes a duplicate's upper copy directly in the upper layer, and after each waits for
 * the agent's remount and looks at what the merged dir serves. Then runs `whileRunning` (the demo's `status` step)
 * while the agent still runs, and stops the agent. Each expectation goes through `report` as it is judged.
 * @throws DemoStoreError DEMO_TOUR_TIMEOUT when the agent does not finish a remount in time; rejects with
 *   `signal.reason` when aborted. The agent is stopped in every case.
 */
export async function runAgentTour(options: AgentTourOptions): Promise<AgentTourResult> {
  const { config, store, say, signal } = options;
  say('Starting the agent (overlay-warden run) on the demo overlay. Its log follows.');
  const agent = await Agent.start({ config, logger: options.logger, env: options.env });
  const checks: TourCheck[] = [];
  const judge = (what: string, expected: string, asExpected: boolean): void => {
    const check = { what, expected, asExpected };
    checks.push(check);
    options.report(check);
  };
  let ranWhileRunning = true;
  try {
    // 1. A template update adds a path to the lower store while the overlay is mounted.
    const added = `${store.storeDir}/${'0'.repeat(32)}-demo-added-to-lower`;
    say(
      `Adding ${basename(added)} to the lower store while the overlay is mounted (what a template or image update does; the demo writes through a second, writable bind of the lower store dir).`,
    );
    const addedDir = join(store.lowerWritableStoreDir, basename(added));
    const ended = nextRemountEnd(agent, signal, 'the lower store grew');
    mkdirSync(addedDir);
    writeFileSync(join(addedDir, 'hello'), 'added to the lower store under a live overlay\n');
    const first = await ended;
    const visible = exists(join(store.mergedStoreDir, basename(added)));
    judge(
      `after the remount (${first.type === 'remount-verified' ? 'verified fresh' : 'gave up'}), the new path is ${visible ? 'visible' : 'NOT visible'} through the merged store dir`,
      'the agent sees the lower store grow, remounts, and the new path is visible',
      first.type === 'remount-verified' && visible,
    );

    // 2. Nix's GC or optimise deletes a duplicated path directly in the upper layer.
    const duplicate = store.upper.duplicates[0];
    if (duplicate !== undefined) {
      const name = basename(duplicate);
      say(`Deleting the upper copy of ${name} directly in the upper layer (what Nix's GC does to a path both layers hold): the merged view goes stale.`);
      const stale = nextRemountEnd(agent, signal, 'the direct upper delete');
      rmSync(join(store.upper.layer, name), { recursive: true, force: true });
      const second = await stale;
      const served = statSync(join(store.mergedStoreDir, name), { throwIfNoEntry: false });
      const lower = statSync(join(store.lower.realStoreDir, name));
      const fromLower = served !== undefined && served.isDirectory() === lower.isDirectory() && served.size === lower.size;
      judge(
        `after the remount, ${name} is served ${fromLower ? 'from the lower store' : 'WRONGLY (not the lower copy)'}`,
        'the agent flags the stale view, remounts, and the lower copy is served',
        second.type === 'remount-verified' && fromLower,
      );
    }
    if (options.whileRunning !== undefined) ranWhileRunning = await options.whileRunning();
  } finally {
    await agent.close();
  }
  return { ok: ranWhileRunning && checks.every((c) => c.asExpected), checks };
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
