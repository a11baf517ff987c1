/** The Nix DB file before SQLite sees it: its type and first bytes, its WAL side files, and a stamp that tells whether it was written. */
import fs from 'node:fs';
import { errnoCode, messageOf } from '../errors/index.ts';
import { NixDbError } from './nix-db-error.ts';

/** The 16 bytes every SQLite 3 database file starts with ("SQLite format 3" and a NUL). */
export const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * What the first bytes of a DB file say (pure): `empty` (0 bytes), `not-sqlite` (no SQLite 3 header), or `sqlite`.
 * `head` is what was read from offset 0, `size` the file's size.
 */
export function classifyDbHeader(head: Buffer, size: number): 'empty' | 'not-sqlite' | 'sqlite' {
  if (size === 0) return 'empty';
  return head.length >= SQLITE_HEADER.length && head.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER) ? 'sqlite' : 'not-sqlite';
}

/**
 * Checks that `file` is a readable regular file holding an SQLite 3 database, reading only its first 16 bytes.
 * @throws NixDbError NIX_DB_MISSING, NIX_DB_UNREADABLE, NIX_DB_EMPTY (0 bytes), NIX_DB_NOT_SQLITE (not a regular
 *   file, or no SQLite header; evidence `head`: the first bytes in hex).
 */
export function checkDbFile(file: string): void {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put there must not block the open; it is refused as not a regular file just below.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (cause) {
    const errno = errnoCode(cause);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') {
      throw new NixDbError('NIX_DB_MISSING', `Nix DB ${file} does not exist`, {
        evidence: { file, errno },
        hint: 'Check the store URL (root, state) or the configured DB path; Nix creates STATE/db/db.sqlite on first use.',
        cause,
      });
    }
    throw new NixDbError('NIX_DB_UNREADABLE', `cannot read Nix DB ${file} (${errno ?? messageOf(cause)})`, {
      evidence: { file, errno },
      hint: 'Run overlay-warden as a user who can read the DB and its directory.',
      cause,
    });
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      throw new NixDbError('NIX_DB_NOT_SQLITE', `Nix DB ${file} is not a regular file`, {
        evidence: { file, content: 'not-a-file' },
        hint: 'Point the store settings at the Nix DB, STATE/db/db.sqlite.',
      });
    }
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const length = stats.size === 0 ? 0 : fs.readSync(fd, head, 0, head.length, 0);
    const verdict = classifyDbHeader(head.subarray(0, length), stats.size);
    if (verdict === 'empty') {
      throw new NixDbError('NIX_DB_EMPTY', `Nix DB ${file} is empty (0 bytes)`, {
        evidence: { file, size: 0, content: 'empty' },
        hint: 'A Nix DB is never empty once Nix has opened it: restore the DB, or point the store settings at the right state dir.',
      });
    }
    if (verdict === 'not-sqlite') {
      throw new NixDbError('NIX_DB_NOT_SQLITE', `${file} is not an SQLite database (it does not start with the SQLite 3 header)`, {
        evidence: { file, size: stats.size, head: head.subarray(0, length).toString('hex'), content: 'not-sqlite' },
        hint: 'Point the store settings at the Nix DB, STATE/db/db.sqlite, or restore it.',
      });
    }
  } catch (error) {
    if (error instanceof NixDbError) throw error;
    throw new NixDbError('NIX_DB_UNREADABLE', `cannot read Nix DB ${file} (${errnoCode(error) ?? messageOf(error)})`, {
      evidence: { file, errno: errnoCode(error) },
      hint: 'Run overlay-warden as a user who can read the DB.',
      cause: error,
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The size of a side file (`-wal`, `-shm`), or undefined when it does not exist. */
export function sideFileSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    const errno = errnoCode(error);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return undefined;
    throw new NixDbError('NIX_DB_UNREADABLE', `cannot stat ${file} (${errno ?? messageOf(error)})`, {
      evidence: { file, errno },
      hint: 'Run overlay-warden as a user who can read the DB directory.',
      cause: error,
    });
  }
}

/**
 * What changes when anything writes the DB file: inode, size, and mtime and ctime to the nanosecond. Decimal strings,
 * so it prints exactly. Since Linux 6.13 (multigrain timestamps on ext4, xfs, btrfs, tmpfs) a write after a `stat`
 * always gets a new timestamp; older kernels stamp with a clock of a few milliseconds, so a write within the same tick
 * as the stamp can go unseen.
 */
export interface DbFileStamp {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

/** The stamp of `file` now, or undefined when it cannot be stat-ed (gone: certainly not the file that was read). */
export function readDbFileStamp(file: string): DbFileStamp | undefined {
  try {
    const s = fs.statSync(file, { bigint: true });
    return { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
  } catch {
    return undefined;
  }
}

/** True when both stamps exist and are equal (pure). */
export function sameDbFileStamp(a: DbFileStamp | undefined, b: DbFileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** NIX_DB_CHANGED: the DB file was written while it was read without locks (`action`), so what was read may mix two states. */
export function dbChangedError(file: string, action: string, before: DbFileStamp | undefined, after: DbFileStamp | undefined): NixDbError {
  return new NixDbError('NIX_DB_CHANGED', `Nix DB ${file} was written while it was read without locks (${action}); what was read may mix two states`, {
    evidence: { file, action, before: before ?? null, after: after ?? null },
    hint: 'Read it again: Nix wrote it meanwhile (with a -wal file present, overlay-warden reads through SQLite locks instead).',
  });
}
