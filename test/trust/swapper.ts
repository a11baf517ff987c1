/**
 * The attacker of the race tests: a process running as uid 65534 that swaps one entry of a directory it owns by
 * rename, a fixed number of times, while a test makes its attempts; and the loop that runs those attempts until the
 * swapper is done (bounded by counts, never by time).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { spawnScriptAsNobody } from '../support/as-nobody.ts';
import { withSafetyNet } from '../support/wait-for.ts';

/** Swaps made by every race: well above the 2,000 asked for, and cheap (tens of µs each). */
export const SWAPS = 5_000;
/** Attempts a race makes at least, even when the swapper finishes first. */
export const MIN_ATTEMPTS = 200;
/** A guard against a swapper that never finishes: a race stops after this many attempts whatever happens. */
const MAX_ATTEMPTS = 1_000_000;

/**
 * What is swapped into `DIR/NAME`: `symlinks` makes a fresh symlink to each target in turn and renames it over the
 * name (the name always exists); `dirs` rotates the named entries of DIR (directories, files, symlinks) through the
 * name by rename (three renames a swap: for a moment the name is missing).
 */
export type SwapPlan = { readonly symlinks: readonly string[] } | { readonly dirs: readonly string[] };

const SCRIPT = `
import fs from 'node:fs';
const [dir, name, planText, countText] = process.argv.slice(1);
const plan = JSON.parse(planText);
const count = Number(countText);
const place = dir + '/' + name;
const spare = dir + '/.' + name + '.swap';
const entries = (plan.dirs ?? []).map((e) => dir + '/' + e);
// The first entry is in place before the race starts; each swap puts the next one there.
if (plan.symlinks) fs.symlinkSync(plan.symlinks[0], place);
else fs.renameSync(entries[0], place);
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  let swaps = 0;
  if (plan.symlinks) {
    for (; swaps < count; swaps++) {
      fs.symlinkSync(plan.symlinks[(swaps + 1) % plan.symlinks.length], spare);
      fs.renameSync(spare, place);
    }
  } else {
    // The entry at the name goes back where it came from, the next one takes its place.
    let current = 0;
    for (; swaps < count; swaps++) {
      const next = (current + 1) % entries.length;
      fs.renameSync(place, spare);
      fs.renameSync(entries[next], place);
      fs.renameSync(spare, entries[current]);
      current = next;
    }
  }
  process.stdout.write('done ' + swaps + '\\n');
  // The attacker child ends itself once its fixed number of swaps is made (not a skipped test: no test runs here).
  process.exit(0);
});
`;

/** A running swapper: `go()` starts the swaps; `done` turns true once all are made; `finished` resolves with their number. */
export class Swapper {
  readonly #child: ChildProcess;
  readonly #finished: Promise<number>;
  #output = '';
  #stderr = '';
  done = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (this.#stderr += text));
    this.#finished = new Promise((resolve, reject) => {
      child.stdout!.on('data', (text: string) => {
        this.#output += text;
        const made = /done (\d+)\n/.exec(this.#output);
        if (made !== null) {
          this.done = true;
          resolve(Number(made[1]));
        }
      });
      child.once('exit', (code) => {
        this.done = true;
        reject(new Error(`the swapper exited (${String(code)}) before it was done:\n${this.#stderr}`));
      });
    });
    this.#finished.catch(() => undefined);
  }

  /** Starts the attacker as uid 65534 on `dir/name` (a directory it owns) and waits until it is ready to swap. */
  static async start(dir: string, name: string, plan: SwapPlan, swaps = SWAPS): Promise<Swapper> {
    const swapper = new Swapper(spawnScriptAsNobody(SCRIPT, [dir, name, JSON.stringify(plan), String(swaps)]));
    await withSafetyNet(
      new Promise<void>((resolve, reject) => {
        swapper.#child.stdout!.on('data', () => swapper.#output.includes('ready\n') && resolve());
        swapper.#child.once('exit', () => reject(new Error(`the swapper did not start:\n${swapper.#stderr}`)));
      }),
      'the swapper to be ready',
    );
    return swapper;
  }

  go(): void {
    this.#child.stdin!.write('go\n');
  }

  get finished(): Promise<number> {
    return this.#finished;
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    await once(this.#child, 'exit');
  }
}

/** What a race saw: attempts made, swaps made during them, and each attempt's outcome counted by name. */
export interface RaceResult {
  readonly attempts: number;
  readonly swaps: number;
  readonly outcomes: ReadonlyMap<string, number>;
}

/**
 * Runs `attempt` (which names its outcome: an error code, or what it read or ran) again and again from the moment
 * the swapper starts until it has made all its swaps, and at least MIN_ATTEMPTS times; asserts that all the swaps
 * (at least 2,000) happened during the attempts.
 */
export async function raceAgainst(swapper: Swapper, attempt: () => string | Promise<string>): Promise<RaceResult> {
  const outcomes = new Map<string, number>();
  let attempts = 0;
  swapper.go();
  try {
    while ((!swapper.done || attempts < MIN_ATTEMPTS) && attempts < MAX_ATTEMPTS) {
      const outcome = await attempt();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      attempts++;
      // Lets the swapper's "done" line in; the swaps go on meanwhile in their own process.
      await nextTurn();
    }
    const swaps = await swapper.finished;
    assert.ok(swaps >= 2000, `only ${swaps} swaps`);
    return { attempts, swaps, outcomes };
  } finally {
    await swapper.kill();
  }
}
