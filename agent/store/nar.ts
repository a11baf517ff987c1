/** NAR serialisation of a file system object, streamed through one reused buffer, and its SHA-256 (Nix's narHash). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { escapeName } from '../errors/index.ts';
import { readNarDirectory, type NarDirectory } from './nar-directory.ts';
import { NarError, narIoError, unsupportedFileError } from './nar-error.ts';

/** The narHash and narSize of a path, as Nix records them in ValidPaths. */
export interface NarHashResult {
  /** SHA-256 of the NAR: 32 bytes. */
  readonly hash: Buffer;
  /** Length of the NAR in bytes. */
  readonly narSize: number;
}

/** Receives NAR bytes in order. The chunk is a view of a reused buffer: copy it to keep it past the call. */
type NarSink = (chunk: Uint8Array) => void;

const STAGE_BYTES = 1 << 20;
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

/**
 * Walks one file system object depth-first without following symlinks and writes its NAR into a reused buffer
 * that is handed to `emit` when full. Differs from Nix's dumpPath in reading each directory's entry types from
 * readdir (one lstat less per directory and symlink) and stat'ing regular files through their open descriptor.
 */
class NarWalker {
  readonly #emit: NarSink;
  readonly #stage: Buffer;
  #pos = 0;
  #narSize = 0;
  readonly #stack: DirFrame[] = [];
  /** OPEN_FLAGS, with O_NOATIME until an open is refused it. */
  #openFlags = OPEN_FLAGS | O_NOATIME;

  constructor(emit: NarSink, stage: Buffer) {
    this.#emit = emit;
    this.#stage = stage;
  }

  get narSize(): number {
    return this.#narSize;
  }

  /** Serialises `root` whole, then hands the last bytes to `emit`. */
  walk(root: FsPath): void {
    this.#put(MAGIC);
    this.#node(root, lstat(root));
    for (let frame = this.#stack.at(-1); frame !== undefined; frame = this.#stack.at(-1)) {
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
    }
    this.#flush();
  }

  /** Starts one node, typed by lstat/fstat or by readdir's d_type (lstat'ed when d_type is unknown or unsupported). */
  #node(path: FsPath, typed: fs.Stats | fs.Dirent<FsPath>): void {
    if (typed.isFile()) this.#regular(path);
    else if (typed.isDirectory()) this.#directory(path);
    else if (typed.isSymbolicLink()) this.#symlink(path);
    else if (typed instanceof fs.Stats) throw unsupportedFileError(path, typed);
    else this.#node(path, lstat(path));
  }

  #directory(path: FsPath): void {
    let listing: NarDirectory;
    try {
      listing = readNarDirectory(path);
    } catch (error) {
      throw narIoError(path, error);
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
      throw narIoError(path, error);
    }
    this.#put(OPEN_SYMLINK);
    this.#putString(target);
    this.#closeNode();
  }

  /** Opens without following symlinks (O_NONBLOCK: a FIFO swapped in cannot block), then checks by fstat. */
  #regular(path: FsPath): void {
    let fd: number;
    try {
      fd = this.#open(path);
    } catch (error) {
      // Replaced by a symlink, socket or device since readdir? Describe what is there now.
      const now = lstat(path);
      if (now.isFile()) throw narIoError(path, error);
      this.#node(path, now);
      return;
    }
    try {
      let st: fs.Stats;
      try {
        st = fs.fstatSync(fd);
      } catch (error) {
        throw narIoError(path, error);
      }
      if ((st.mode & S_IFMT) !== S_IFREG) {
        this.#node(path, st);
        return;
      }
      this.#put((st.mode & S_IXUSR) !== 0 ? OPEN_EXECUTABLE : OPEN_REGULAR);
      this.#put(CONTENTS);
      this.#putU64(st.size);
      this.#readContents(path, fd, st.size);
      this.#pad(st.size);
      this.#closeNode();
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Reads the `size` bytes of the open file straight into the stage. */
  #readContents(path: FsPath, fd: number, size: number): void {
    let remaining = size;
    while (remaining > 0) {
      if (this.#pos === STAGE_BYTES) this.#flush();
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
    throw narIoError(path, error);
  }
}

/** One staging buffer per thread, reused by every call. */
let stage: Buffer | undefined;

/**
 * SHA-256 and size of the NAR of `path` (a regular file, symlink or directory; symlinks are not followed): the NAR
 * is byte for byte what `nix-store --dump` writes, so the hash is Nix's narHash. Synchronous, the fastest form: run
 * it on a worker thread.
 * @throws NarError NAR_UNSUPPORTED_FILE_TYPE (FIFO, socket, device), NAR_WHITEOUT (a whiteout device),
 *   NAR_FILE_CHANGED (a file shrank while read), NAR_IO_ERROR (errno in evidence).
 */
export function narHashOfPathSync(path: string | Buffer): NarHashResult {
  const hash = createHash('sha256');
  const walker = new NarWalker((chunk) => hash.update(chunk), (stage ??= Buffer.allocUnsafe(STAGE_BYTES)));
  walker.walk(path);
  return { hash: hash.digest(), narSize: walker.narSize };
}
