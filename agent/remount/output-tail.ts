/** Bounded capture of a child's output: keeps the last N bytes (where errors are) and counts what was dropped. */

/** What a command printed on one stream, bounded. */
export interface CapturedOutput {
  /** The last bytes written, as UTF-8 (a character cut at the start shows as U+FFFD). */
  readonly text: string;
  /** Bytes dropped from the start to stay within the bound. */
  readonly droppedBytes: number;
}

/** Collects chunks, keeping at most `limit` bytes of the end. */
export class OutputTail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Adds a chunk, dropping the oldest bytes beyond the limit. */
  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
    while (this.#size > this.#limit) {
      const first = this.#chunks[0]!;
      const excess = this.#size - this.#limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
        this.#dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
        this.#dropped += excess;
      }
    }
  }

  /** The captured text so far. */
  result(): CapturedOutput {
    return { text: Buffer.concat(this.#chunks).toString('utf8'), droppedBytes: this.#dropped };
  }
}
