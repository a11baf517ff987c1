/** Adjacency lists as typed arrays (compressed sparse rows), built from a flat edge list (pure). */

/** The neighbours of node `i` are `targets[offsets[i] … offsets[i + 1])`. */
export interface Csr {
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
}

/** A growable list of `(from, to)` pairs in one Uint32Array. */
export class EdgeList {
  #pairs = new Uint32Array(2048);
  #length = 0;

  get count(): number {
    return this.#length / 2;
  }

  add(from: number, to: number): void {
    if (this.#length === this.#pairs.length) {
      const grown = new Uint32Array(this.#pairs.length * 2);
      grown.set(this.#pairs);
      this.#pairs = grown;
    }
    this.#pairs[this.#length++] = from;
    this.#pairs[this.#length++] = to;
  }

  /** The pairs `[from, to, from, to, …]` (a view; valid until the next `add`). */
  pairs(): Uint32Array {
    return this.#pairs.subarray(0, this.#length);
  }
}

/**
 * Groups `pairs` by `from` (or by `to` when `reverse`) into a CSR over `nodeCount` nodes, in two counting passes.
 * Within a node, targets keep the order of the pairs. Every node number must be below `nodeCount`.
 */
export function buildCsr(pairs: Uint32Array, nodeCount: number, reverse = false): Csr {
  const fromAt = reverse ? 1 : 0;
  const toAt = reverse ? 0 : 1;
  const offsets = new Uint32Array(nodeCount + 1);
  for (let i = fromAt; i < pairs.length; i += 2) offsets[(pairs[i] as number) + 1]!++;
  for (let n = 0; n < nodeCount; n++) offsets[n + 1]! += offsets[n] as number;
  const cursor = offsets.slice(0, nodeCount);
  const targets = new Uint32Array(pairs.length / 2);
  for (let i = 0; i < pairs.length; i += 2) targets[cursor[pairs[i + fromAt] as number]!++] = pairs[i + toAt] as number;
  return { offsets, targets };
}

/** Number of neighbours of `node`. */
export function degree(csr: Csr, node: number): number {
  return (csr.offsets[node + 1] as number) - (csr.offsets[node] as number);
}

/** The neighbours of `node` (a view into `csr.targets`). */
export function neighbours(csr: Csr, node: number): Uint32Array {
  return csr.targets.subarray(csr.offsets[node] as number, csr.offsets[node + 1] as number);
}
