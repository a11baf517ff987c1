/** NAR serialisation of a file system object, streamed through one reused buffer, and its SHA-256 (Nix's narHash). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { WardenError, errnoCode, messageOf } from '../errors/index.ts';
import { readNarDirectory, type NarDirectory } from './nar-directory.ts';

export type NarErrorCode = 'NAR_UNSUPPORTED_FILE_TYPE' | 'NAR_WHITEOUT' | 'NAR_FILE_CHANGED' | 'NAR_IO_ERROR';

/** File types a NAR cannot hold. `whiteout` is OverlayFS's character device 0/0. */
export type UnsupportedFileType = 'fifo' | 'socket' | 'character-device' | 'block-device' | 'whiteout' | 'unknown';

/**
 * Why a path could not be serialised. Evidence: `path` (the file, not the root), plus `fileType` for
 * NAR_UNSUPPORTED_FILE_TYPE and NAR_WHITEOUT, `errno` and `syscall` for NAR_IO_ERROR, sizes for NAR_FILE_CHANGED.
 */
export class NarError extends WardenError<NarErrorCode> {}

/** The narHash and narSize of a path, as Nix records them in ValidPaths. */
export interface NarHashResult {
  /** SHA-256 of the NAR: 32 bytes. */
  readonly hash: Buffer;
  /** Length of the NAR in bytes. */
  readonly narSize: number;
}

export interface NarOptions {
  /** Aborting rejects with `signal.reason`; checked between slices of about 8 MiB of work. */
  readonly signal?: AbortSignal;
}

/** Receives NAR bytes in order. The chunk is a view of a reused buffer: copy it to keep it past the call. */
export type NarSink = (chunk: Uint8Array) => void;

const STAGE_BYTES = 1 << 20;
/** Work units per slice of the async variants: bytes read plus NODE_COST per file system object. */
const SLICE_UNITS = 8 << 20;
const NODE_COST = 4096;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IXUSR = 0o100;
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
/**
 * Reading a file updates its access time (with `relatime`, once a day), which is a write to the layer: a verify of
 * the whole store would dirty every inode in it. O_NOATIME prevents that for the file's owner and for root
 * (CAP_FOWNER); anyone else gets EPERM and reads without it. Undefined where the platform has no such flag.
 */
const O_NOATIME: number = fs.constants.O_NOATIME ?? 0;

/** NAR strings: u64 little-endian length, bytes, zero padding to a multiple of 8. */
function narStrings(...tokens: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const token of tokens) {
    const bytes = Buffer.from(token);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(bytes.length, 0);
    parts.push(head, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
  }
  return Buffer.concat(parts);
}

const MAGIC = narStrings('nix-archive-1');
const OPEN_DIRECTORY = narStrings('(', 'type', 'directory');
const OPEN_REGULAR = narStrings('(', 'type', 'regular');
const OPEN_EXECUTABLE = narStrings('(', 'type', 'regular', 'executable', '');
const CONTENTS = narStrings('contents');
const OPEN_SYMLINK = narStrings('(', 'type', 'symlink', 'target');
const CLOSE = narStrings(')');
const ENTRY_NAME = narStrings('entry', '(', 'name');
const NODE = narStrings('node');

/** A path: a string unless it, or a name in it, is not valid UTF-8 (see readNarDirectory). */
type FsPath = string | Buffer;

type DirFrame = NarDirectory & { index: number };

interface OpenFile {
  readonly path: FsPath;
  readonly fd: number;
  readonly size: number;
  remaining: number;
}

/**
 * Walks one file system object depth-first without following symlinks and writes its NAR into a reused
 * buffer that is handed to `emit` when full. Resumable: `run(budget)` stops after about `budget` units.
 * Differs from Nix's dumpPath in reading each directory's entry types from readdir (one lstat less per
 * directory and symlink) and stat'ing regular files through their open descriptor.
 */
class NarWalker {
  readonly #emit: NarSink;
  readonly #stage: Buffer;
  #pos = 0;
  #narSize = 0;
  readonly #stack: DirFrame[] = [];
  #file: OpenFile | undefined;
  #root: FsPath | undefined;
  /** OPEN_FLAGS, with O_NOATIME until an open is refused it. */
  #openFlags = OPEN_FLAGS | O_NOATIME;

  constructor(root: FsPath, emit: NarSink, stage: Buffer) {
    this.#root = root;
    this.#emit = emit;
    this.#stage = stage;
  }

  get narSize(): number {
    return this.#narSize;
  }

  /** Serialises until done (true) or until about `budget` units of work are spent (false). */
  run(budget: number): boolean {
    let spent = 0;
    if (this.#root !== undefined) {
      const root = this.#root;
      this.#root = undefined;
      this.#put(MAGIC);
      this.#node(root, lstat(root));
      spent += NODE_COST;
    }
    while (spent < budget) {
      if (this.#file !== undefined) {
        spent += this.#continueFile(budget - spent);
        continue;
      }
      const frame = this.#stack[this.#stack.length - 1];
      if (frame === undefined) {
        this.#flush();
        return true;
      }
      const entry = frame.entries[frame.index++];
      if (entry === undefined) {
        this.#stack.pop();
        this.#put(CLOSE);
        if (this.#stack.length > 0) this.#put(CLOSE);
        continue;
      }
      this.#put(ENTRY_NAME);
      this.#putName(entry.name);
      this.#put(NODE);
      // The prefix is a string exactly when the names are (NarDirectory).
      this.#node(typeof entry.name === 'string' ? (frame.prefix as string) + entry.name : Buffer.concat([frame.prefix as Buffer, entry.name]), entry);
      spent += NODE_COST;
    }
    return false;
  }

  /** Releases an open file after an error or abort. */
  dispose(): void {
    if (this.#file !== undefined) fs.closeSync(this.#file.fd);
    this.#file = undefined;
  }

  /** Starts one node, typed by lstat/fstat or by readdir's d_type (lstat'ed when d_type is unknown or unsupported). */
  #node(path: FsPath, typed: fs.Stats | fs.Dirent<FsPath>): void {
    if (typed.isFile()) this.#regular(path);
    else if (typed.isDirectory()) this.#directory(path);
    else if (typed.isSymbolicLink()) this.#symlink(path);
    else if (typed instanceof fs.Stats) throw unsupported(path, typed);
    else this.#node(path, lstat(path));
  }

  #directory(path: FsPath): void {
    let listing: NarDirectory;
    try {
      listing = readNarDirectory(path);
    } catch (error) {
      throw ioError(path, error);
    }
    this.#put(OPEN_DIRECTORY);
    this.#stack.push({ ...listing, index: 0 });
  }

  /** Opens a regular file for reading without touching its access time where the kernel allows it. */
  #open(path: FsPath): number {
    try {
      return fs.openSync(path, this.#openFlags);
    } catch (error) {
      if (this.#openFlags === OPEN_FLAGS || (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
      this.#openFlags = OPEN_FLAGS; // not the owner and not root: read as Nix does
      return fs.openSync(path, OPEN_FLAGS);
    }
  }

  #symlink(path: FsPath): void {
    let target: Buffer;
    try {
      target = fs.readlinkSync(path, { encoding: 'buffer' });
    } catch (error) {
      throw ioError(path, error);
    }
    this.#put(OPEN_SYMLINK);
    this.#putString(target);
    this.#closeNode();
  }

  /** Opens without following symlinks (O_NONBLOCK: a FIFO swapped in cannot block), then checks by fstat. */
  #regular(path: FsPath): void {
    let fd: number;
    let st: fs.Stats;
    try {
      fd = this.#open(path);
    } catch (error) {
      // Replaced by a symlink, socket or device since readdir? Describe what is there now.
      const now = lstat(path);
      if (now.isFile()) throw ioError(path, error);
      this.#node(path, now);
      return;
    }
    try {
      st = fs.fstatSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      throw ioError(path, error);
    }
    if ((st.mode & S_IFMT) !== S_IFREG) {
      fs.closeSync(fd);
      this.#node(path, st);
      return;
    }
    this.#put((st.mode & S_IXUSR) !== 0 ? OPEN_EXECUTABLE : OPEN_REGULAR);
    this.#put(CONTENTS);
    const size = st.size;
    this.#putU64(size);
    this.#file = { path, fd, size, remaining: size };
    if (size <= STAGE_BYTES - this.#pos) this.#continueFile(size); // small file: straight into the stage
  }

  /** Reads up to about `budget` bytes of the open file; closes the node when the file is done. */
  #continueFile(budget: number): number {
    const file = this.#file!;
    const stage = this.#stage;
    let spent = 0;
    try {
      while (file.remaining > 0 && (spent < budget || spent === 0)) {
        if (this.#pos === STAGE_BYTES) this.#flush();
        const want = Math.min(file.remaining, STAGE_BYTES - this.#pos);
        const got = fs.readSync(file.fd, stage, this.#pos, want, null);
        if (got === 0) {
          throw new NarError('NAR_FILE_CHANGED', `'${file.path.toString()}' shrank while being read: ${file.size - file.remaining} of ${file.size} bytes`, {
            evidence: { path: file.path.toString(), expectedSize: file.size, readSize: file.size - file.remaining },
          });
        }
        this.#pos += got;
        this.#narSize += got;
        file.remaining -= got;
        spent += got;
      }
    } catch (error) {
      this.dispose();
      throw error instanceof NarError ? error : ioError(file.path, error);
    }
    if (file.remaining === 0) {
      this.dispose();
      this.#pad(file.size);
      this.#closeNode();
    }
    return spent;
  }

  /** Closes a non-directory node, and its directory entry unless it is the root. */
  #closeNode(): void {
    this.#put(CLOSE);
    if (this.#stack.length > 0) this.#put(CLOSE);
  }

  #flush(): void {
    if (this.#pos === 0) return;
    this.#emit(this.#stage.subarray(0, this.#pos));
    this.#pos = 0;
  }

  #put(bytes: Buffer): void {
    if (this.#pos + bytes.length > STAGE_BYTES) this.#flush();
    bytes.copy(this.#stage, this.#pos);
    this.#pos += bytes.length;
    this.#narSize += bytes.length;
  }

  #putU64(n: number): void {
    if (this.#pos + 8 > STAGE_BYTES) this.#flush();
    const stage = this.#stage;
    stage.writeUInt32LE(n >>> 0, this.#pos);
    stage.writeUInt32LE(Math.floor(n / 0x1_0000_0000), this.#pos + 4);
    this.#pos += 8;
    this.#narSize += 8;
  }

  #pad(length: number): void {
    const padding = (8 - (length % 8)) % 8;
    if (padding === 0) return;
    if (this.#pos + padding > STAGE_BYTES) this.#flush();
    this.#stage.fill(0, this.#pos, this.#pos + padding);
    this.#pos += padding;
    this.#narSize += padding;
  }

  /** A NAR string; names and link targets are far smaller than the stage. */
  #putString(bytes: Buffer): void {
    this.#putU64(bytes.length);
    this.#put(bytes);
    this.#pad(bytes.length);
  }

  /** An entry name as a NAR string, encoding a string name straight into the stage. */
  #putName(name: FsPath): void {
    if (typeof name !== 'string') {
      this.#putString(name);
      return;
    }
    // At most 3 UTF-8 bytes per UTF-16 code unit, plus length and padding.
    if (this.#pos + 3 * name.length + 16 > STAGE_BYTES) this.#flush();
    const length = this.#stage.write(name, this.#pos + 8, 'utf8');
    this.#putU64(length);
    this.#pos += length;
    this.#narSize += length;
    this.#pad(length);
  }
}

function lstat(path: FsPath): fs.Stats {
  try {
    return fs.lstatSync(path);
  } catch (error) {
    throw ioError(path, error);
  }
}

function ioError(path: FsPath, error: unknown): NarError {
  const errno = errnoCode(error);
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  return new NarError('NAR_IO_ERROR', `cannot read '${path.toString()}': ${errno ?? messageOf(error)}`, {
    evidence: { path: path.toString(), errno, syscall },
    cause: error,
  });
}

function unsupported(path: FsPath, st: fs.Stats): NarError {
  const where = path.toString();
  if (st.isCharacterDevice() && st.rdev === 0) {
    return new NarError('NAR_WHITEOUT', `'${where}' is an OverlayFS whiteout (character device 0/0): it has no NAR`, {
      evidence: { path: where, fileType: 'whiteout' satisfies UnsupportedFileType },
      hint: 'a whiteout in an OverlayFS upper layer hides a lower entry; hash the path through the merged store dir instead',
    });
  }
  const fileType: UnsupportedFileType = st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : 'unknown';
  return new NarError('NAR_UNSUPPORTED_FILE_TYPE', `'${where}' is a ${fileType}, which a NAR cannot hold`, { evidence: { path: where, fileType, mode: st.mode } });
}

/** One staging buffer per thread, reused by synchronous calls; a sink calling back in gets its own. */
let sharedStage: Buffer | undefined;

function runSync(path: string | Buffer, emit: NarSink): number {
  const stage = sharedStage ?? Buffer.allocUnsafe(STAGE_BYTES);
  sharedStage = undefined;
  const walker = new NarWalker(path, emit, stage);
  try {
    walker.run(Infinity);
  } finally {
    walker.dispose();
    sharedStage = stage;
  }
  return walker.narSize;
}

async function runAsync(path: string | Buffer, emit: NarSink, signal: AbortSignal | undefined): Promise<number> {
  signal?.throwIfAborted();
  // Own stage: other calls may run while this one yields.
  const walker = new NarWalker(path, emit, Buffer.allocUnsafe(STAGE_BYTES));
  try {
    while (!walker.run(SLICE_UNITS)) {
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
  } finally {
    walker.dispose();
  }
  return walker.narSize;
}

/**
 * Writes the NAR of `path` (a regular file, symlink or directory; symlinks are not followed) to `sink`
 * synchronously, byte for byte what `nix-store --dump` writes. Returns the NAR size.
 * @throws NarError NAR_UNSUPPORTED_FILE_TYPE (FIFO, socket, device), NAR_WHITEOUT (char device 0/0),
 *   NAR_FILE_CHANGED (a file shrank while read), NAR_IO_ERROR (errno in evidence). Errors thrown by `sink` pass through.
 */
export function dumpNarSync(path: string | Buffer, sink: NarSink): number {
  return runSync(path, sink);
}

/** Async dumpNarSync: does the same work in slices, yielding to the event loop between them. Same errors; aborts with `signal.reason`. */
export async function dumpNar(path: string | Buffer, sink: NarSink, options: NarOptions = {}): Promise<number> {
  return runAsync(path, sink, options.signal);
}

/** SHA-256 and size of the NAR of `path`, computed synchronously (the fastest form; use it in workers). Errors as dumpNarSync. */
export function narHashOfPathSync(path: string | Buffer): NarHashResult {
  const hash = createHash('sha256');
  const narSize = runSync(path, (chunk) => hash.update(chunk));
  return { hash: hash.digest(), narSize };
}

/** Async narHashOfPathSync, in slices that yield to the event loop. Errors as dumpNarSync; aborts with `signal.reason`. */
export async function narHashOfPath(path: string | Buffer, options: NarOptions = {}): Promise<NarHashResult> {
  const hash = createHash('sha256');
  const narSize = await runAsync(path, (chunk) => hash.update(chunk), options.signal);
  return { hash: hash.digest(), narSize };
}
