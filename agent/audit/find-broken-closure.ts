/** `store.broken-closure`: upper-DB paths referencing a path that is gone, with the chain up to the roots it breaks (pure). */
import { finding, type Finding } from '../findings/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { degree, neighbours, type Csr } from './csr.ts';
import { LOCATION_CODE } from './locate.ts';

export interface BrokenClosureLimits {
  /** Referrers and roots listed per finding (the counts are always complete unless the budget ran out). */
  readonly listed: number;
  /** Roots given with their full chain per finding. */
  readonly chains: number;
  /** Graph steps for all findings together; past it, roots are no longer searched (`rootsComplete: false`). */
  readonly budget: number;
}

export const DEFAULT_BROKEN_CLOSURE_LIMITS: BrokenClosureLimits = { listed: 20, chains: 3, budget: 50_000_000 };

/** Walks referrers upwards from `start`, stamping visits; finds the roots (rows nobody references) it reaches. */
class RootSearch {
  readonly #referrers: Csr;
  readonly #stamp: Uint32Array;
  readonly #parent: Int32Array;
  readonly #queue: Uint32Array;
  #round = 0;
  budget: number;

  constructor(referrers: Csr, count: number, budget: number) {
    this.#referrers = referrers;
    this.#stamp = new Uint32Array(count);
    this.#parent = new Int32Array(count);
    this.#queue = new Uint32Array(count);
    this.budget = budget;
  }

  /** Breadth-first, so each chain is a shortest one. `complete` is false when the budget ran out. */
  search(start: number): { roots: number[]; complete: boolean } {
    const round = ++this.#round;
    const roots: number[] = [];
    let head = 0;
    let tail = 0;
    this.#stamp[start] = round;
    this.#parent[start] = -1;
    this.#queue[tail++] = start;
    while (head < tail) {
      if (this.budget-- <= 0) return { roots, complete: false };
      const node = this.#queue[head++] as number;
      if (node !== start && degree(this.#referrers, node) === 0) roots.push(node);
      for (const next of neighbours(this.#referrers, node)) {
        if (this.#stamp[next] === round) continue;
        this.#stamp[next] = round;
        this.#parent[next] = node;
        this.#queue[tail++] = next;
      }
    }
    return { roots, complete: true };
  }

  /** The chain from `root` down to the search's start (valid right after `search`). */
  chain(root: number): number[] {
    const chain: number[] = [];
    for (let node = root; node >= 0; node = this.#parent[node] as number) chain.push(node);
    return chain;
  }
}

/**
 * One error per gone path (located `gone` or `masked`) that other upper-DB paths still reference, naming its
 * direct referrers, the roots whose closures it breaks (upper-DB paths nothing references) and, for a few roots,
 * the chain `root → … → referrer → missing`. Also one per Refs row pointing at an id the upper DB does not hold.
 */
export function findBrokenClosures(facts: AuditFacts, locations: Uint8Array, limits: BrokenClosureLimits = DEFAULT_BROKEN_CLOSURE_LIMITS): Finding[] {
  const { upperDb, upperGraph } = facts;
  const search = new RootSearch(upperGraph.referrers, upperDb.count, limits.budget);
  const findings: Finding[] = [];
  const pathOf = (row: number): string => facts.upperPathOf(row);
  for (let row = 0; row < upperDb.count; row++) {
    const location = locations[row];
    if (location !== LOCATION_CODE.gone && location !== LOCATION_CODE.masked) continue;
    const referrers = neighbours(upperGraph.referrers, row);
    if (referrers.length === 0) continue;
    const path = pathOf(row);
    const { roots, complete } = search.search(row);
    const why = location === LOCATION_CODE.masked ? 'is hidden by a whiteout in the upper layer' : 'is in neither layer';
    const rootNote = complete ? `; it breaks the closure of ${roots.length} root${roots.length === 1 ? '' : 's'}` : '';
    findings.push(
      finding(
        'store.broken-closure',
        'error',
        `${path} ${why}, yet ${referrers.length} upper-DB path${referrers.length === 1 ? '' : 's'} reference${referrers.length === 1 ? 's' : ''} it${rootNote}${roots[0] === undefined ? '' : `, e.g. ${pathOf(roots[0])}`}`,
        {
          path,
          missing: path,
          reason: location === LOCATION_CODE.masked ? 'masked' : 'gone',
          referrers: Array.from(referrers.subarray(0, limits.listed), pathOf),
          referrerCount: referrers.length,
          roots: roots.slice(0, limits.listed).map(pathOf),
          rootCount: complete ? roots.length : undefined,
          rootsComplete: complete,
          chains: roots.slice(0, limits.chains).map((root) => search.chain(root).map(pathOf)),
        },
        'restore the missing path (nix-store --realise PATH, or nix-store --repair-path PATH to substitute it again) before the roots are used; if the lower store was garbage-collected under the overlay, restore or pin its roots',
      ),
    );
  }
  for (const unknown of upperGraph.unknownReferences) {
    const path = pathOf(unknown.row);
    const { roots, complete } = search.search(unknown.row);
    const brokenRoots = degree(upperGraph.referrers, unknown.row) === 0 ? [unknown.row, ...roots] : roots;
    findings.push(
      finding(
        'store.broken-closure',
        'error',
        `${path} references ValidPaths id ${unknown.referenceId}, which the upper DB does not register`,
        {
          path,
          missing: undefined,
          reason: 'unregistered',
          referenceId: unknown.referenceId,
          upperDb: upperDb.file,
          roots: brokenRoots.slice(0, limits.listed).map(pathOf),
          rootCount: complete ? brokenRoots.length : undefined,
          rootsComplete: complete,
        },
        'the upper DB has a Refs row without its ValidPaths row (edited by hand, or damaged): check it with nix-store --verify',
      ),
    );
  }
  return findings;
}
