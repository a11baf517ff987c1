/** The shape of a demo store, as compact arrays: object kinds, references, duplicates and the upper DB's copy-up (pure). */
import { createRandom, type Random } from './seeded-random.ts';

/** What a store object is on disk. */
export const OBJECT_KINDS = ['file', 'executable', 'empty-file', 'empty-dir', 'tree'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** `mixed`: every kind of object; `mostly-files`: 95 % single small files (fast to write, for scale). */
export type DemoContents = 'mixed' | 'mostly-files';

/** Adjacency lists in compressed form: the targets of node i are targets[offsets[i] .. offsets[i + 1]). */
export interface Csr {
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
}

/** Indices of paths are positions in their layer (lower 0..lowerCount-1, upper 0..upperCount-1). */
export interface DemoGraph {
  readonly lowerCount: number;
  readonly upperCount: number;
  /** Index into OBJECT_KINDS, per path. */
  readonly lowerKinds: Uint8Array;
  readonly upperKinds: Uint8Array;
  /** Lower → earlier lower paths. */
  readonly lowerRefs: Csr;
  /** 1 where a path references itself (a Refs row (x, x), as Nix records for outputs that mention their own path). */
  readonly lowerSelf: Uint8Array;
  /** Upper → lower paths. */
  readonly upperToLower: Csr;
  /** Upper → earlier upper paths. */
  readonly upperToUpper: Csr;
  readonly upperSelf: Uint8Array;
  /** Lower paths also present in the upper layer and registered in the upper DB, ascending. */
  readonly duplicates: Uint32Array;
  /** Lower paths whose metadata the upper DB holds (closure of what upper paths reference, plus duplicates), ascending. */
  readonly copiedUp: Uint32Array;
}

export interface DemoGraphParams {
  readonly seed: number;
  readonly lowerCount: number;
  readonly upperCount: number;
  readonly duplicates: number;
  readonly maxReferences: number;
  readonly contents: DemoContents;
}

/** Layer codes in the seeds of per-path random streams. */
export const LAYER_CODE = { lower: 1, upper: 2 } as const;

/** Lower paths come in groups (a package set) that reference each other and a few hubs (think glibc). */
const GROUP = 32;
const HUBS = 8;
/** Upper paths see at most this many earlier upper paths (a project's own build). */
const UPPER_WINDOW = 32;

/**
 * Plans a demo store deterministically from `params`: same params, same graph. Lower references point to earlier
 * paths only, so ascending index order is a valid registration order (Nix's foreign keys hold).
 */
export function planDemoGraph(params: DemoGraphParams): DemoGraph {
  const { seed, lowerCount, upperCount, maxReferences } = params;
  const lowerKinds = new Uint8Array(lowerCount);
  const lowerSelf = new Uint8Array(lowerCount);
  const lowerRefs = new CsrBuilder(lowerCount, maxReferences);
  for (let i = 0; i < lowerCount; i++) {
    const random = createRandom(seed, LAYER_CODE.lower, i);
    const kind = pickKind(random, params.contents);
    lowerKinds[i] = kind;
    const count = i === 0 ? 0 : random.int(maxReferences + 1);
    for (let k = 0; k < count; k++) lowerRefs.add(lowerTarget(random, i));
    lowerRefs.endNode();
    lowerSelf[i] = OBJECT_KINDS[kind] === 'tree' && random.chance(0.3) ? 1 : 0;
  }
  const upperKinds = new Uint8Array(upperCount);
  const upperSelf = new Uint8Array(upperCount);
  const upperToLower = new CsrBuilder(upperCount, maxReferences);
  const upperToUpper = new CsrBuilder(upperCount, maxReferences);
  for (let u = 0; u < upperCount; u++) {
    const random = createRandom(seed, LAYER_CODE.upper, u);
    const kind = pickKind(random, params.contents);
    upperKinds[u] = kind;
    const count = random.int(maxReferences + 1);
    for (let k = 0; k < count; k++) {
      if (lowerCount > 0 && (u === 0 || random.chance(0.5))) upperToLower.add(skewedEarly(random, lowerCount));
      else if (u > 0) upperToUpper.add(u - 1 - random.int(Math.min(u, UPPER_WINDOW)));
    }
    upperToLower.endNode();
    upperToUpper.endNode();
    upperSelf[u] = OBJECT_KINDS[kind] === 'tree' && random.chance(0.3) ? 1 : 0;
  }
  const duplicates = spread(params.duplicates, lowerCount);
  const lower = lowerRefs.build();
  const toLower = upperToLower.build();
  return {
    lowerCount,
    upperCount,
    lowerKinds,
    upperKinds,
    lowerRefs: lower,
    lowerSelf,
    upperToLower: toLower,
    upperToUpper: upperToUpper.build(),
    upperSelf,
    duplicates,
    copiedUp: lowerClosure(lower, lowerCount, [toLower.targets, duplicates]),
  };
}

/** The targets of node `i`. */
export function targetsOf(csr: Csr, i: number): Uint32Array {
  return csr.targets.subarray(csr.offsets[i] as number, csr.offsets[i + 1] as number);
}

/** Lower paths no other lower path references (self-references do not count), ascending. */
export function lowerRoots(graph: DemoGraph): number[] {
  const referenced = new Uint8Array(graph.lowerCount);
  for (const target of graph.lowerRefs.targets) referenced[target] = 1;
  return indicesWhere(referenced, 0);
}

/** Registrations of the upper DB that no other registration there references: lower (copied-up) and upper indices. */
export function upperRoots(graph: DemoGraph): { lower: number[]; upper: number[] } {
  const lowerReferenced = new Uint8Array(graph.lowerCount);
  for (const i of graph.copiedUp) for (const target of targetsOf(graph.lowerRefs, i)) lowerReferenced[target] = 1;
  for (const target of graph.upperToLower.targets) lowerReferenced[target] = 1;
  const upperReferenced = new Uint8Array(graph.upperCount);
  for (const target of graph.upperToUpper.targets) upperReferenced[target] = 1;
  return { lower: Array.from(graph.copiedUp).filter((i) => lowerReferenced[i] === 0), upper: indicesWhere(upperReferenced, 0) };
}

function pickKind(random: Random, contents: DemoContents): number {
  if (contents === 'mostly-files' && random.chance(0.95)) return 0;
  const r = random.next();
  return r < 0.35 ? 0 : r < 0.45 ? 1 : r < 0.48 ? 2 : r < 0.52 ? 3 : 4;
}

/** A reference of lower path i (> 0): a hub, a path earlier in its group, or rarely an early path elsewhere. */
function lowerTarget(random: Random, i: number): number {
  const groupStart = i - (i % GROUP);
  const r = random.next();
  if (r < 0.03) return skewedEarly(random, i);
  if (r < 0.3 || i === groupStart) return random.int(Math.min(i, HUBS));
  return groupStart + random.int(i - groupStart);
}

/** An index in [0, n) biased towards 0 (popular base packages are old and early). */
function skewedEarly(random: Random, n: number): number {
  const r = random.next();
  return Math.min(n - 1, Math.floor(n * r * r * r));
}

/** `count` indices spread evenly over [0, n), ascending. */
function spread(count: number, n: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let t = 0; t < count; t++) out[t] = Math.floor(((t + 0.5) * n) / count);
  return out;
}

/** Ascending indices of the closure of `starts` under `refs`. */
function lowerClosure(refs: Csr, n: number, starts: readonly Uint32Array[]): Uint32Array {
  const seen = new Uint8Array(n);
  const stack: number[] = [];
  for (const list of starts)
    for (const start of list)
      if (seen[start] === 0) {
        seen[start] = 1;
        stack.push(start);
      }
  while (stack.length > 0) {
    const node = stack.pop() as number;
    for (const target of targetsOf(refs, node))
      if (seen[target] === 0) {
        seen[target] = 1;
        stack.push(target);
      }
  }
  return Uint32Array.from(indicesWhere(seen, 1));
}

function indicesWhere(flags: Uint8Array, value: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i] === value) out.push(i);
  return out;
}

/** Builds a Csr node by node; duplicate targets within a node are dropped and the rest sorted. */
class CsrBuilder {
  readonly #offsets: Uint32Array;
  #targets: Uint32Array;
  #node = 0;
  #length = 0;

  constructor(nodes: number, perNode: number) {
    this.#offsets = new Uint32Array(nodes + 1);
    this.#targets = new Uint32Array(Math.max(16, nodes * Math.min(perNode, 4)));
  }

  add(target: number): void {
    const start = this.#offsets[this.#node] as number;
    for (let k = start; k < this.#length; k++) if (this.#targets[k] === target) return;
    if (this.#length === this.#targets.length) {
      const grown = new Uint32Array(this.#targets.length * 2);
      grown.set(this.#targets);
      this.#targets = grown;
    }
    this.#targets[this.#length++] = target;
  }

  endNode(): void {
    this.#targets.subarray(this.#offsets[this.#node] as number, this.#length).sort();
    this.#offsets[++this.#node] = this.#length;
  }

  build(): Csr {
    return { offsets: this.#offsets, targets: this.#targets.slice(0, this.#length) };
  }
}
