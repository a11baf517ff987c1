/**
 * Where a scrub pass's chunks come from: the upper DB, or the lower store's metadata (its DB, or its nix-daemon).
 * From a daemon, the rows of several chunks are read at once and kept until the pass moves past them: listing the
 * daemon's paths, which numbering the rows needs, is what a chunk would otherwise cost.
 */
import { openUpperDb } from '../audit/index.ts';
import { openLowerMetadata, type LowerMetadata, type StoreLayout } from '../store/index.ts';
import { readChunk, type Chunk, type ChunkLimits } from './scrub-chunk.ts';
import type { ScrubPass } from './scrub-state.ts';

/** Chunks one read of a daemon's rows serves: one listing of its paths per this many chunks. */
export const DAEMON_WINDOW_CHUNKS = 32;

export class ScrubChunkSource {
  readonly #layout: StoreLayout;
  readonly #limits: ChunkLimits;
  readonly #windowChunks: number;
  /** A daemon's rows after `from` up to `to` (row ids), for the pass started at `startedAt`. */
  #window: { startedAt: string; from: number; to: number; lower: LowerMetadata } | undefined;

  constructor(layout: StoreLayout, limits: ChunkLimits, windowChunks = DAEMON_WINDOW_CHUNKS) {
    this.#layout = layout;
    this.#limits = limits;
    this.#windowChunks = windowChunks;
  }

  /**
   * The paths a pass over `layers` covers. Opens the lower metadata either way, so that a pass whose lower store
   * cannot be read does not start.
   * @throws NixDbError, DaemonError, LowerMetadataError (see openLowerMetadata).
   */
  async pathsTotal(layers: 'upper' | 'both', signal: AbortSignal): Promise<number> {
    const upper = openUpperDb(this.#layout);
    let total: number;
    try {
      total = upper.countValidPaths();
    } finally {
      upper.close();
    }
    const { metadata } = await openLowerMetadata(this.#layout.lower, { rowsAfter: { afterId: 0, limit: 0 }, signal });
    try {
      return total + (layers === 'both' ? metadata.countValidPaths() : 0);
    } finally {
      metadata.close();
    }
  }

  /** The pass's next chunk (readChunk), or undefined when its layer has no more. @throws as pathsTotal. */
  async next(pass: ScrubPass, signal: AbortSignal): Promise<Chunk | undefined> {
    if (pass.layer === 'upper') {
      const upper = openUpperDb(this.#layout);
      try {
        return readChunk(upper, pass.afterId, this.#limits);
      } finally {
        upper.close();
      }
    }
    if (this.#layout.lower.db !== undefined) {
      const { metadata } = await openLowerMetadata(this.#layout.lower, { signal });
      try {
        return readChunk(metadata, pass.afterId, this.#limits);
      } finally {
        metadata.close();
      }
    }
    const window = this.#window;
    const fits =
      window !== undefined &&
      window.startedAt === pass.startedAt &&
      pass.afterId >= window.from &&
      (pass.afterId + this.#limits.paths <= window.to || window.to >= window.lower.countValidPaths());
    if (!fits) {
      this.close();
      const limit = this.#limits.paths * this.#windowChunks;
      const { metadata } = await openLowerMetadata(this.#layout.lower, { rowsAfter: { afterId: pass.afterId, limit }, signal });
      this.#window = { startedAt: pass.startedAt, from: pass.afterId, to: pass.afterId + limit, lower: metadata };
    }
    return readChunk(this.#window!.lower, pass.afterId, this.#limits);
  }

  /** Drops the rows kept; idempotent. */
  close(): void {
    this.#window?.lower.close();
    this.#window = undefined;
  }
}
