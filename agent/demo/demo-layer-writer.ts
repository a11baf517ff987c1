/** Writes the objects of both demo layers and their Nix DBs, in registration order (references first). */
import assert from 'node:assert/strict';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errnoCode, messageOf } from '../errors/index.ts';
import { narHashOfPathSync, formatNarHash } from '../store/index.ts';
import { DemoStoreError } from './demo-store-error.ts';
import { LAYER_CODE, OBJECT_KINDS, targetsOf, type DemoGraph } from './demo-graph.ts';
import { demoDeriverPath } from './demo-names.ts';
import { planObject, writeObject } from './demo-objects.ts';
import type { DemoStoreOptions, ResolvedDemoStoreOptions } from './demo-store-options.ts';
import { createNixDb, type NixDbWriter, type Registration } from './nix-db-writer.ts';

/** Paths between two progress reports and event-loop yields. */
const PROGRESS_EVERY = 4096;

/** References of path `i` of a layer as logical paths (unsorted), itself included when self-referencing. */
export function referencesOfDemoPath(g: DemoGraph, lowerPaths: readonly string[], upperPaths: readonly string[], upper: boolean, i: number): string[] {
  const own = (upper ? upperPaths : lowerPaths)[i] as string;
  const refs = upper
    ? [...Array.from(targetsOf(g.upperToLower, i), (t) => lowerPaths[t] as string), ...Array.from(targetsOf(g.upperToUpper, i), (t) => upperPaths[t] as string)]
    : Array.from(targetsOf(g.lowerRefs, i), (t) => lowerPaths[t] as string);
  return (upper ? g.upperSelf : g.lowerSelf)[i] === 1 ? [...refs, own] : refs;
}

/** Writes the objects of both layers and their DBs; keeps each lower path's narHash for the upper DB's copies. */
export class DemoLayerWriter {
  readonly #graph: DemoGraph;
  readonly #lowerPaths: readonly string[];
  readonly #upperPaths: readonly string[];
  readonly #o: ResolvedDemoStoreOptions;
  readonly #options: Pick<DemoStoreOptions, 'signal' | 'onProgress'>;
  readonly #lowerHashes: Buffer;
  readonly #lowerSizes: Float64Array;

  constructor(
    graph: DemoGraph,
    lowerPaths: readonly string[],
    upperPaths: readonly string[],
    o: ResolvedDemoStoreOptions,
    options: Pick<DemoStoreOptions, 'signal' | 'onProgress'>,
  ) {
    this.#graph = graph;
    this.#lowerPaths = lowerPaths;
    this.#upperPaths = upperPaths;
    this.#o = o;
    this.#options = options;
    this.#lowerHashes = Buffer.alloc(graph.lowerCount * 32);
    this.#lowerSizes = new Float64Array(graph.lowerCount);
  }

  async lower(realStoreDir: string, stateDir: string): Promise<void> {
    const g = this.#graph;
    const ids = new Uint32Array(g.lowerCount);
    await this.#withDb(stateDir, async (db) => {
      for (let i = 0; i < g.lowerCount; i++) {
        const { hash, narSize } = this.#writeObject(realStoreDir, false, i);
        hash.copy(this.#lowerHashes, i * 32);
        this.#lowerSizes[i] = narSize;
        const id = db.addPath(this.#lowerRegistration(i));
        ids[i] = id;
        for (const t of targetsOf(g.lowerRefs, i)) db.addReference(id, ids[t] as number);
        if (g.lowerSelf[i] === 1) db.addReference(id, id);
        await this.#progress('lower', i + 1, g.lowerCount);
      }
    });
  }

  async upper(layer: string, stateDir: string): Promise<void> {
    const g = this.#graph;
    const lowerIds = new Uint32Array(g.lowerCount);
    const upperIds = new Uint32Array(g.upperCount);
    const duplicate = new Uint8Array(g.lowerCount);
    for (const i of g.duplicates) duplicate[i] = 1;
    const total = g.copiedUp.length + g.upperCount;
    await this.#withDb(stateDir, async (db) => {
      let done = 0;
      for (const i of g.copiedUp) {
        if (duplicate[i] === 1) {
          const { hash } = this.#writeObject(layer, false, i);
          assert.ok(hash.equals(this.#lowerHashes.subarray(i * 32, i * 32 + 32)), `duplicate ${this.#lowerPaths[i]} differs from its lower copy`);
        }
        const id = db.addPath(this.#lowerRegistration(i));
        lowerIds[i] = id;
        for (const t of targetsOf(g.lowerRefs, i)) db.addReference(id, lowerIds[t] as number);
        if (g.lowerSelf[i] === 1) db.addReference(id, id);
        await this.#progress('upper', ++done, total);
      }
      for (let u = 0; u < g.upperCount; u++) {
        const { hash, narSize } = this.#writeObject(layer, true, u);
        const id = db.addPath({
          path: this.#upperPaths[u] as string,
          narHash: formatNarHash(hash),
          narSize,
          registrationTime: this.#o.registrationTime + g.lowerCount + u,
          ultimate: true,
        });
        upperIds[u] = id;
        for (const t of targetsOf(g.upperToLower, u)) db.addReference(id, lowerIds[t] as number);
        for (const t of targetsOf(g.upperToUpper, u)) db.addReference(id, upperIds[t] as number);
        if (g.upperSelf[u] === 1) db.addReference(id, id);
        await this.#progress('upper', ++done, total);
      }
    });
  }

  #lowerRegistration(i: number): Registration {
    const storePath = this.#lowerPaths[i] as string;
    return {
      path: storePath,
      narHash: formatNarHash(this.#lowerHashes.subarray(i * 32, i * 32 + 32)),
      narSize: this.#lowerSizes[i] as number,
      registrationTime: this.#o.registrationTime + i,
      // Substituted paths keep the deriver they were built from, which is not valid here (a third of them).
      deriver: i % 3 === 0 ? demoDeriverPath(this.#o.storeDir, this.#o.seed, i, storePath.slice(this.#o.storeDir.length + 34)) : undefined,
    };
  }

  /** Writes object i of a layer under `dir` and returns its NAR hash and size. */
  #writeObject(dir: string, upper: boolean, i: number): { hash: Buffer; narSize: number } {
    const g = this.#graph;
    const storePath = (upper ? this.#upperPaths : this.#lowerPaths)[i] as string;
    const kind = OBJECT_KINDS[(upper ? g.upperKinds : g.lowerKinds)[i] as number] ?? 'file';
    const seeds = [this.#o.seed, upper ? LAYER_CODE.upper : LAYER_CODE.lower, i];
    const selfReference = (upper ? g.upperSelf : g.lowerSelf)[i] === 1;
    const references = referencesOfDemoPath(g, this.#lowerPaths, this.#upperPaths, upper, i).filter((r) => r !== storePath);
    const objectPath = path.join(dir, path.posix.basename(storePath));
    try {
      writeObject(objectPath, planObject({ kind, seeds, storePath, references, selfReference }));
      return narHashOfPathSync(objectPath);
    } catch (cause) {
      throw new DemoStoreError('DEMO_STORE_IO', `cannot write demo store object ${objectPath}: ${errnoCode(cause) ?? messageOf(cause)}`, {
        evidence: { path: objectPath, errno: errnoCode(cause) },
        cause,
      });
    }
  }

  async #withDb(stateDir: string, fill: (db: NixDbWriter) => Promise<void>): Promise<void> {
    const db = createNixDb(stateDir);
    try {
      await fill(db);
      db.finish();
    } finally {
      db.abort();
    }
  }

  async #progress(phase: 'lower' | 'upper', done: number, total: number): Promise<void> {
    if (done % PROGRESS_EVERY !== 0 && done !== total) return;
    this.#options.onProgress?.({ phase, done, total });
    await yieldToEventLoop();
    this.#options.signal?.throwIfAborted();
  }
}
