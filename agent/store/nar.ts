/** NAR serialisation of a file system object, streamed through one reused buffer, and its SHA-256 (Nix's narHash). */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { readNarDirectory, type NarDirectory } from './nar-directory.ts';
import { narIoError, unsupportedFileError } from './nar-error.ts';
import { NarStage, STAGE_BYTES, type FsPath } from './nar-stage.ts';
import {
  CLOSE,
  CLOSE_ENTRY,
  ENTRY_NAME,
  MAGIC,
  NODE,
  NODE_OPEN_DIRECTORY,
  NODE_OPEN_EXECUTABLE_CONTENTS,
  NODE_OPEN_REGULAR_CONTENTS,
  NODE_OPEN_SYMLINK,
  OPEN_DIRECTORY,
  OPEN_EXECUTABLE_CONTENTS,
  OPEN_REGULAR_CONTENTS,
  OPEN_SYMLINK,
} from './nar-tokens.ts';

/** The narHash and narSize of a path, as Nix records them in ValidPaths. */
export interface NarHashResult {
  /** SHA-256 of the NAR: 32 bytes. */
  readonly hash: Buffer;
  /** Length of the NAR in bytes. */
  readonly narSize: number;
}

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

/** A directory being written: its listing and the next entry's index. */
interface DirFrame {
  readonly prefix: FsPath;
  readonly entries: ReadonlyArray<fs.Dirent<FsPath>>;
  index: number;
}

/**
 * Walks one file system object depth-first without following symlinks and writes its NAR through its NarStage.
 * Differs from Nix's dumpPath in reading each directory's entry types from readdir (one lstat less per directory
 * and symlink) and stat'ing regular files through their open descriptor. Besides `walk`, it composes a NAR whose
 * directories are not one directory on disk (an OverlayFS merge, see nar-merge.ts): `magic`, then a node
 * (`subtree`, `regularFrom`, or `openDirectory`, `entry`…, `closeDirectory`), then `finish`.
 */
export class NarWalker extends NarStage {
  readonly #stack: DirFrame[] = [];
  /** OPEN_FLAGS, with O_NOATIME until an open is refused it. */
  #openFlags = OPEN_FLAGS | O_NOATIME;

  /** Serialises `root` whole, then hands the last bytes on. */
  walk(root: FsPath): void {
    this.magic();
    this.subtree(root);
    this.finish();
  }

  /** The NAR's header; once, first. */
  magic(): void {
    this.put(MAGIC);
  }

  /** Hands the bytes still staged on; once, last. */
  finish(): void {
    this.flush();
  }

  /** One node where the NAR expects one (after `magic`, or inside `entry`): the object at `path` and all below it. */
  subtree(path: FsPath): void {
    // The stack is empty between nodes (composing callers keep their own directories), so this node is its bottom.
    this.#statNode(path, lstat(path));
    const stack = this.#stack;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.index === frame.entries.length) {
        stack.pop();
        this.put(stack.length > 0 ? CLOSE_ENTRY : CLOSE);
        continue;
      }
      const entry = frame.entries[frame.index++]!;
      this.put(ENTRY_NAME);
      this.putName(entry.name);
      // The prefix is a string exactly when the names are (NarDirectory). Opening tokens start with `node`.
      const path = typeof entry.name === 'string' ? (frame.prefix as string) + entry.name : Buffer.concat([frame.prefix as Buffer, entry.name]);
      if (entry.isFile()) this.#regular(path);
      else if (entry.isDirectory()) this.#directory(path);
      else if (entry.isSymbolicLink()) this.#symlink(path);
      else this.#statNode(path, lstat(path)); // d_type unknown (some file systems), or no NAR type: lstat decides
    }
  }

  /** A directory node whose entries the caller writes (`entry`, in bytewise name order), then `closeDirectory`. */
  openDirectory(): void {
    this.put(OPEN_DIRECTORY);
  }

  closeDirectory(): void {
    this.put(CLOSE);
  }

  /** One directory entry named `name`; `node` writes its node. */
  entry(name: Buffer, node: () => void): void {
    this.put(ENTRY_NAME);
    this.putString(name);
    this.put(NODE);
    node();
    this.put(CLOSE);
  }

  /**
   * A regular file node whose executable bit is `executable` and whose contents are those of the regular file
   * `dataPath` (an OverlayFS metacopy: metadata in the upper layer, data in the lower one).
   * @throws NarError NAR_IO_ERROR when `dataPath` cannot be read; NAR_UNSUPPORTED_FILE_TYPE when it is no regular file.
   */
  regularFrom(executable: boolean, dataPath: FsPath): void {
    let fd: number;
    try {
      fd = this.#open(dataPath);
    } catch (error) {
      throw narIoError(dataPath, error);
    }
    try {
      const st = fstat(dataPath, fd);
      if ((st.mode & S_IFMT) !== S_IFREG) throw unsupportedFileError(dataPath, st);
      this.#contents(dataPath, fd, st.size, executable);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Starts one node typed by lstat or fstat. */
  #statNode(path: FsPath, st: fs.Stats): void {
    if (st.isFile()) this.#regular(path);
    else if (st.isDirectory()) this.#directory(path);
    else if (st.isSymbolicLink()) this.#symlink(path);
    else throw unsupportedFileError(path, st);
  }

  #directory(path: FsPath): void {
    let listing: NarDirectory;
    try {
      listing = readNarDirectory(path);
    } catch (error) {
      throw narIoError(path, error);
    }
    this.put(this.#stack.length > 0 ? NODE_OPEN_DIRECTORY : OPEN_DIRECTORY);
    this.#stack.push({ prefix: listing.prefix, entries: listing.entries, index: 0 });
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
    this.put(this.#stack.length > 0 ? NODE_OPEN_SYMLINK : OPEN_SYMLINK);
    this.putString(target);
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
      this.#statNode(path, now);
      return;
    }
    try {
      const st = fstat(path, fd);
      if ((st.mode & S_IFMT) !== S_IFREG) {
        this.#statNode(path, st);
        return;
      }
      this.#contents(path, fd, st.size, (st.mode & S_IXUSR) !== 0);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A regular file node: its header, the `size` bytes of the open file, padding, and the closing tokens. */
  #contents(path: FsPath, fd: number, size: number, executable: boolean): void {
    const inEntry = this.#stack.length > 0;
    this.put(executable ? (inEntry ? NODE_OPEN_EXECUTABLE_CONTENTS : OPEN_EXECUTABLE_CONTENTS) : inEntry ? NODE_OPEN_REGULAR_CONTENTS : OPEN_REGULAR_CONTENTS);
    this.putU64(size);
    this.readContents(path, fd, size);
    this.pad(size);
    this.#closeNode();
  }

  /** Closes a non-directory node, and its directory entry unless it is the node `subtree` was given. */
  #closeNode(): void {
    this.put(this.#stack.length > 0 ? CLOSE_ENTRY : CLOSE);
  }
}

function fstat(path: FsPath, fd: number): fs.Stats {
  try {
    return fs.fstatSync(fd);
  } catch (error) {
    throw narIoError(path, error);
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

/** A walker that feeds `hash`, on this thread's staging buffer (so one NAR at a time per thread). */
export function hashingWalker(hash: Hash): NarWalker {
  return new NarWalker((chunk) => hash.update(chunk), (stage ??= Buffer.allocUnsafe(STAGE_BYTES)));
}

/**
 * SHA-256 and size of the NAR of `path` (a regular file, symlink or directory; symlinks are not followed): the NAR
 * is byte for byte what `nix-store --dump` writes, so the hash is Nix's narHash. Synchronous, the fastest form: run
 * it on a worker thread.
 * @throws NarError NAR_UNSUPPORTED_FILE_TYPE (FIFO, socket, device), NAR_WHITEOUT (a whiteout device),
 *   NAR_FILE_CHANGED (a file shrank while read), NAR_IO_ERROR (errno in evidence).
 */
export function narHashOfPathSync(path: string | Buffer): NarHashResult {
  const hash = createHash('sha256');
  const walker = hashingWalker(hash);
  walker.walk(path);
  return { hash: hash.digest(), narSize: walker.narSize };
}
