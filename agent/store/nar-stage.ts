/** NAR bytes staged in one reused buffer and handed on when it is full: the byte-level writer under nar.ts. */
import fs from 'node:fs';
import { escapeName } from '../errors/index.ts';
import { NarError, narIoError } from './nar-error.ts';

/** Receives NAR bytes in order. The chunk is a view of a reused buffer: copy it to keep it past the call. */
export type NarSink = (chunk: Uint8Array) => void;

/** A path: a string unless it, or a name in it, is not valid UTF-8 (see readNarDirectory). */
export type FsPath = string | Buffer;

export const STAGE_BYTES = 1 << 20;

/** Writes NAR tokens, strings and file contents into `stage`, handing it to `emit` whenever it fills; counts the bytes. */
export class NarStage {
  readonly #emit: NarSink;
  readonly #stage: Buffer;
  #pos = 0;
  #narSize = 0;

  constructor(emit: NarSink, stage: Buffer) {
    this.#emit = emit;
    this.#stage = stage;
  }

  /** Bytes written so far. */
  get narSize(): number {
    return this.#narSize;
  }

  /** Hands the staged bytes to `emit`. */
  flush(): void {
    if (this.#pos === 0) return;
    this.#emit(this.#stage.subarray(0, this.#pos));
    this.#pos = 0;
  }

  /** Pre-encoded bytes (a token of nar-tokens.ts). */
  put(bytes: Buffer): void {
    if (this.#pos + bytes.length > STAGE_BYTES) this.flush();
    this.#stage.set(bytes, this.#pos); // TypedArray's set: Buffer's copy validates its arguments first
    this.#pos += bytes.length;
    this.#narSize += bytes.length;
  }

  putU64(n: number): void {
    if (this.#pos + 8 > STAGE_BYTES) this.flush();
    const stage = this.#stage;
    let at = this.#pos;
    // Byte by byte: writeUInt32LE checks its arguments on every call. n is a whole number below 2^53.
    const low = n >>> 0;
    const high = Math.floor(n / 0x1_0000_0000);
    stage[at++] = low & 0xff;
    stage[at++] = (low >>> 8) & 0xff;
    stage[at++] = (low >>> 16) & 0xff;
    stage[at++] = low >>> 24;
    stage[at++] = high & 0xff;
    stage[at++] = (high >>> 8) & 0xff;
    stage[at++] = (high >>> 16) & 0xff;
    stage[at] = high >>> 24;
    this.#pos += 8;
    this.#narSize += 8;
  }

  /** Zero bytes up to the next multiple of 8 after `length` bytes. */
  pad(length: number): void {
    const padding = (8 - (length % 8)) % 8;
    if (padding === 0) return;
    if (this.#pos + padding > STAGE_BYTES) this.flush();
    const stage = this.#stage;
    for (let at = this.#pos, end = at + padding; at < end; at++) stage[at] = 0; // at most 7: fill() is a native call
    this.#pos += padding;
    this.#narSize += padding;
  }

  /** A NAR string; names and link targets are far smaller than the stage. */
  putString(bytes: Buffer): void {
    this.putU64(bytes.length);
    this.put(bytes);
    this.pad(bytes.length);
  }

  /** An entry name as a NAR string, encoding a string name straight into the stage. */
  putName(name: FsPath): void {
    if (typeof name !== 'string') {
      this.putString(name);
      return;
    }
    // At most 3 UTF-8 bytes per UTF-16 code unit, plus length and padding.
    if (this.#pos + 3 * name.length + 16 > STAGE_BYTES) this.flush();
    const length = this.#stage.write(name, this.#pos + 8, 'utf8');
    this.putU64(length);
    this.#pos += length;
    this.#narSize += length;
    this.pad(length);
  }

  /**
   * Reads the `size` bytes of the open file `fd` (opened from `path`) straight into the stage.
   * @throws NarError NAR_IO_ERROR when a read fails; NAR_FILE_CHANGED when the file ends early.
   */
  readContents(path: FsPath, fd: number, size: number): void {
    let remaining = size;
    while (remaining > 0) {
      if (this.#pos === STAGE_BYTES) this.flush();
      let got: number;
      try {
        got = fs.readSync(fd, this.#stage, this.#pos, Math.min(remaining, STAGE_BYTES - this.#pos), null);
      } catch (error) {
        throw narIoError(path, error);
      }
      if (got === 0) {
        throw new NarError('NAR_FILE_CHANGED', `'${escapeName(path)}' shrank while being read: ${size - remaining} of ${size} bytes`, {
          evidence: { path: escapeName(path), expectedSize: size, readSize: size - remaining },
        });
      }
      this.#pos += got;
      this.#narSize += got;
      remaining -= got;
    }
  }
}
