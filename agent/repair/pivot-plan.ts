/** Decides what `pivot` copies up before the lower store loses paths: pure over the registrations and where each path is. */

/** Where a path is now: the upper layer holds it (it wins), only the lower layer does, a whiteout hides it, or neither. */
export type PivotLocation = 'upper' | 'lower' | 'masked' | 'gone';

/** One upper-DB registration, as pivot needs it. */
export interface PivotRegistration {
  /** `<hash>-<name>`. */
  readonly baseName: string;
  /** As the DB stores it (`sha256:<hex>`, or another form parseNarHash reads). */
  readonly narHash: string;
  readonly narSize: number;
}

export interface PivotPlanInput {
  /** Every upper-DB registration. */
  readonly registrations: readonly PivotRegistration[];
  /** True when the lower store is about to lose the path (`--dead`, or not in the replacement lower DB). */
  readonly vanishes: (baseName: string) => boolean;
  /** Where the path is now (asked only of vanishing paths). */
  readonly locate: (baseName: string) => PivotLocation;
  /** What the lower DB says a registered path references (base names), or undefined when it does not register it. */
  readonly lowerReferences: (baseName: string) => readonly string[] | undefined;
}

/** A needed path that the upper DB does not register: copying it would not make Nix know it (see planPivot). */
export interface UnregisteredNeed {
  readonly baseName: string;
  /** An upper-DB registration that, by the lower DB, references it. */
  readonly neededBy: string;
}

export interface PivotPlan {
  /** Vanishing paths served from the lower layer alone: copied up, in base-name order. */
  readonly copy: readonly PivotRegistration[];
  /** Vanishing registrations the upper layer already holds: nothing to do. */
  readonly inUpper: readonly string[];
  /** Vanishing registrations hidden by a whiteout: the merged view lacks them already; pivot leaves whiteouts alone. */
  readonly masked: readonly string[];
  /** Registrations that are in neither layer already: lost before pivot ran (the audit reports them dangling). */
  readonly gone: readonly string[];
  readonly unregistered: readonly UnregisteredNeed[];
  /** narSize summed over `copy`. */
  readonly copyBytes: number;
}

/**
 * What pivot copies up. The roots are every upper-DB registration, not only the objects in the upper layer: each
 * registration is Nix's word that the path is valid in the overlay store (the audit calls a gone one
 * `store.dangling`, and a gone one with a referrer `store.broken-closure`), and the overlay store's GC roots may
 * name lower paths whose metadata was copied up. Upper-DB references always point at registrations, so that
 * closure is the upper DB itself; the lower DB is where it can be incomplete: a registered path the lower DB says
 * references a path the upper DB lacks needs that path too, but a copy of it would be a stray to Nix once the lower
 * store forgets it, so it is reported (`unregistered`) and never copied. Only vanishing paths count.
 */
export function planPivot(input: PivotPlanInput): PivotPlan {
  const registered = new Set(input.registrations.map((r) => r.baseName));
  const copy: PivotRegistration[] = [];
  const inUpper: string[] = [];
  const masked: string[] = [];
  const gone: string[] = [];
  const unregistered = new Map<string, UnregisteredNeed>();
  for (const registration of input.registrations) {
    const { baseName } = registration;
    if (input.vanishes(baseName)) {
      const location = input.locate(baseName);
      if (location === 'lower') copy.push(registration);
      else if (location === 'upper') inUpper.push(baseName);
      else if (location === 'masked') masked.push(baseName);
      else gone.push(baseName);
    }
    for (const reference of input.lowerReferences(baseName) ?? []) {
      if (registered.has(reference) || unregistered.has(reference) || !input.vanishes(reference)) continue;
      unregistered.set(reference, { baseName: reference, neededBy: baseName });
    }
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  copy.sort((a, b) => byName(a.baseName, b.baseName));
  return {
    copy,
    inUpper: inUpper.sort(byName),
    masked: masked.sort(byName),
    gone: gone.sort(byName),
    unregistered: [...unregistered.values()].sort((a, b) => byName(a.baseName, b.baseName)),
    copyBytes: copy.reduce((sum, r) => sum + r.narSize, 0),
  };
}

/**
 * The Nix command that makes the overlay store register `storePath` (and its closure): a query through the
 * local-overlay store copies a lower path's metadata up into the upper DB. Pure.
 */
export function registerCommand(storeUrl: string, storePath: string): string {
  return `nix --extra-experimental-features 'nix-command local-overlay-store' path-info --store '${storeUrl.replaceAll("'", "'\\''")}' ${storePath}`;
}
