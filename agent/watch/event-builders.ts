/** Building the drift events that need more than one observation: lower shrinkage with its broken closures, DB changes. */
import { compareDbIdentity, type LowerDbIdentity } from '../baseline/index.ts';
import { messageOf } from '../errors/index.ts';
import type { UpperClosureLookup } from './broken-closures.ts';
import type { DriftEvent, DriftSource, LowerShrankEvent } from './drift-events.ts';
import { layerEntryState } from './layer-entry.ts';
import { WatchError } from './watch-errors.ts';

export interface ShrinkContext {
  readonly storeDir: string;
  readonly upperLayer: string;
  readonly upperDb: string;
  readonly closures: UpperClosureLookup;
  readonly source: DriftSource;
  readonly at: string;
}

/**
 * The `lower-shrank` event for vanished base names. Closures are looked up for the names the upper layer does not
 * hold itself (a path the upper layer still has stays visible through the overlay, so nothing breaks). When the
 * upper DB cannot be read the event carries `brokenUpperClosures: null` and the error is returned beside it.
 */
export function lowerShrankEvent(names: readonly string[], ctx: ShrinkContext): { event: LowerShrankEvent; error: WatchError | undefined } {
  const paths = names.map((name) => `${ctx.storeDir}/${name}`).sort();
  const unheld = names.filter((name) => {
    try {
      return layerEntryState(ctx.upperLayer, name) !== 'object';
    } catch {
      return true;
    }
  });
  try {
    const broken = ctx.closures.brokenClosures(unheld.map((name) => `${ctx.storeDir}/${name}`));
    return { event: { type: 'lower-shrank', source: ctx.source, at: ctx.at, paths, brokenUpperClosures: broken }, error: undefined };
  } catch (cause) {
    const error = new WatchError(
      'WATCH_UPPER_DB_UNREADABLE',
      `cannot read the upper DB ${ctx.upperDb} to find the closures ${paths.length} vanished lower path(s) break: ${messageOf(cause)}`,
      {
        cause,
        evidence: { file: ctx.upperDb, vanished: paths.length },
        hint: 'run `overlay-warden audit` once the upper DB is readable: it lists broken closures',
      },
    );
    return { event: { type: 'lower-shrank', source: ctx.source, at: ctx.at, paths, brokenUpperClosures: null }, error };
  }
}

/** The event for a DB identity change, or undefined when it did not change (see compareDbIdentity for `scope`). Pure. */
export function lowerDbEvent(
  before: LowerDbIdentity | null,
  after: LowerDbIdentity | null,
  scope: 'live' | 'restart',
  source: DriftSource,
  at: string,
): DriftEvent | undefined {
  const change = compareDbIdentity(before, after, scope);
  if (change === 'unchanged') return undefined;
  if (change === 'modified') return { type: 'lower-db-modified', source, at, before: before as LowerDbIdentity, after: after as LowerDbIdentity };
  return { type: 'lower-db-replaced', source, at, change, before, after };
}
