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
  readonly store: Pick<DemoStore, 'lower' | 'upper' | 'mergedStoreDir' | 'storeDir'>;
  readonly logger: Logger;
  readonly say: (text: string) => void;
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

/** Runs the tour; resolves true when every step ended as the agent should make it end. */
export async function runAgentTour(options: AgentTourOptions): Promise<boolean> {
  const { config, store, say, signal } = options;
  say('Starting the agent (overlay-warden run) on the demo overlay. Its log follows.');
  const agent = await Agent.start({ config, logger: options.logger, env: options.env });
  let ok = true;
  try {
    // 1. A template update adds a path to the lower store while the overlay is mounted.
    const added = `${store.storeDir}/${'0'.repeat(32)}-demo-added-to-lower`;
    say(`Adding ${basename(added)} to the lower store while the overlay is mounted (what a template or image update does).`);
    const addedDir = join(store.lower.realStoreDir, basename(added));
    const ended = nextRemountEnd(agent, signal, 'the lower store grew');
    mkdirSync(addedDir);
    writeFileSync(join(addedDir, 'hello'), 'added to the lower store under a live overlay\n');
    const first = await ended;
    const visible = exists(join(store.mergedStoreDir, basename(added)));
    say(
      `After the remount (${first.type === 'remount-verified' ? 'verified fresh' : 'failed'}), the new path is ${visible ? 'visible' : 'NOT visible'} through the merged store dir.`,
    );
    ok &&= first.type === 'remount-verified' && visible;

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
      say(`After the remount, ${name} is served ${fromLower ? 'from the lower store, as it should be' : 'WRONGLY'}.`);
      ok &&= second.type === 'remount-verified' && fromLower;
    }
    const status = agent.status();
    say(
      `The agent's status: mount ${status.mountValid ? 'valid' : 'invalid'}; drift seen: ${
        Object.entries(status.drift)
          .filter(([, n]) => n > 0)
          .map(([t, n]) => `${t} ×${n}`)
          .join(', ') || 'none'
      }; remounts done: ${status.remount.counters.remounted}.`,
    );
  } finally {
    await agent.close();
  }
  return ok;
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
