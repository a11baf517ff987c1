/**
 * Opens what the agent trusts the way sudo and OpenSSH do: walks the path from `/` one component at a time through
 * descriptors, follows a symlink only when its owner and its directory are trusted, checks every directory passed
 * and the opened file itself (fstat), and hands back that descriptor, so what is read is what was checked.
 */
import fs from 'node:fs';
import { posix } from 'node:path';
import { READ_FLAGS, fileTypeOf, readOpenedSync } from './bounded-read.ts';
import { TrustError, type TrustRole } from './trust-error.ts';
import { modeText, trustPolicy, untrustedAncestorReason, untrustedReason, untrustedSymlinkReason, type TrustPolicy } from './trust-policy.ts';

/** Linux's O_PATH (absent from fs.constants): a descriptor that names a file without reading it, enough for fstat and lookups. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = fs.constants;
/** Symlinks followed in one walk before giving up with ELOOP, the kernel's own limit. */
const MAX_SYMLINKS = 40;

/**
 * The path of `name` inside the directory open as `fd`. Node has no openat(2); a lookup through the
 * /proc/self/fd/N magic link starts at the very directory the descriptor holds, whatever was renamed since, so
 * this is openat's equivalent.
 */
export function inDirectory(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

/** How the last component is opened: read (a regular file), path (checked, not read: a command to run), directory. */
export type TrustedKind = 'read' | 'path' | 'directory';

export interface TrustOptions {
  /** What the file is, for messages: "configuration file", "remount command". */
  readonly what: string;
  /** Default: this process's (trustPolicy()). */
  readonly policy?: TrustPolicy;
  /** Also refuse a file group or others can read: a secret such as a token. */
  readonly secret?: boolean;
}

/** An open, checked file or directory; the caller closes `fd`. */
export interface TrustedHandle {
  readonly fd: number;
  /** The path with every symlink resolved, each of its components checked. */
  readonly realPath: string;
  readonly stat: fs.Stats;
}

interface Dir {
  readonly fd: number;
  readonly path: string;
}

/**
 * Opens `file` (absolute, or relative to the working directory) after checking each component: every directory
 * on the way is owned by root or the agent's user and writable by nobody else unless sticky; a symlink is followed
 * only when owned by them, and its target is walked the same way from its real directory; the last component is
 * opened without following a symlink, and its fstat must show the kind asked for, owned by root or the agent's
 * user, writable by nobody else (and, for `secret`, readable by nobody else). A directory (`directory`) must not be
 * writable by others even when sticky: the agent creates entries in it. Throws TrustError FILE_UNTRUSTED (naming
 * the component) or FILE_WRONG_TYPE, or Node's error of a failed lookup (ENOENT, ENOTDIR, EACCES, ELOOP).
 */
export function openTrusted(file: string, kind: TrustedKind, options: TrustOptions): TrustedHandle {
  const policy = options.policy ?? trustPolicy();
  const refuse = (reason: string | undefined, role: TrustRole, at: string, stat: fs.Stats): void => {
    if (reason !== undefined) throw untrusted(file, options.what, reason, role, at, stat);
  };
  const pending = (file.startsWith('/') ? file : `${process.cwd()}/${file}`).split('/');
  const dirs: Dir[] = [];
  const enter = (path: string, at: string): void => {
    const fd = named(at, () => fs.openSync(path, O_PATH | O_DIRECTORY | O_NOFOLLOW));
    dirs.push({ fd, path: at });
    const stat = fs.fstatSync(fd);
    refuse(untrustedAncestorReason(stat, policy, `the directory ${at}`), 'ancestor', at, stat);
  };
  try {
    enter('/', '/');
    let links = 0;
    for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (dirs.length > 1) fs.closeSync(dirs.pop()!.fd);
        continue;
      }
      const dir = dirs.at(-1)!;
      const at = posix.join(dir.path, name);
      const entry = named(at, () => fs.lstatSync(inDirectory(dir.fd, name)));
      if (entry.isSymbolicLink()) {
        refuse(untrustedSymlinkReason(entry, policy, `the symlink ${at}`), 'symlink', at, entry);
        if (++links > MAX_SYMLINKS) throw Object.assign(new Error(`ELOOP: too many symbolic links in ${file}`), { code: 'ELOOP', path: file });
        const target = named(at, () => fs.readlinkSync(inDirectory(dir.fd, name)));
        pending.unshift(...target.split('/'));
        if (target.startsWith('/')) for (const gone of dirs.splice(1)) fs.closeSync(gone.fd);
        continue;
      }
      // Anything but `.` still to come (`..` included) makes this a directory to pass through, as for the kernel.
      if (pending.some((part) => part !== '' && part !== '.')) enter(inDirectory(dir.fd, name), at);
      else return openLast(dir, name, at, entry);
    }
    // The path ended at a directory already entered (`/`, or a trailing `..`): open it as the last component.
    const top = dirs.at(-1)!;
    return openLast(top, '.', top.path, fs.fstatSync(top.fd));
  } finally {
    for (const dir of dirs) fs.closeSync(dir.fd);
  }

  function openLast(dir: Dir, name: string, at: string, entry: fs.Stats): TrustedHandle {
    // A directory read as a file fails with EISDIR, as a plain read does; other types are refused.
    const wanted = (stat: fs.Stats): boolean =>
      kind === 'directory' ? stat.isDirectory() : kind === 'path' ? stat.isFile() : stat.isFile() || stat.isDirectory();
    // The type is checked before opening, so a device is never opened (some act on open), and again on what was opened.
    if (!wanted(entry)) throw wrongType(file, options.what, at, entry, kind === 'directory' ? 'directory' : 'regular file');
    const flags = kind === 'directory' ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW : kind === 'path' ? O_PATH | O_NOFOLLOW : READ_FLAGS | O_NOFOLLOW;
    const fd = named(at, () => fs.openSync(inDirectory(dir.fd, name), flags));
    try {
      const stat = fs.fstatSync(fd);
      if (!wanted(stat)) throw wrongType(file, options.what, at, stat, kind === 'directory' ? 'directory' : 'regular file');
      const what = kind === 'directory' ? `the directory ${at}` : `the file ${at}`;
      refuse(untrustedReason(stat, policy, what), 'target', at, stat);
      if (options.secret === true && (stat.mode & 0o044) !== 0)
        refuse(`${what} is readable by group or others (mode ${modeText(stat.mode)})`, 'target', at, stat);
      return { fd, realPath: at, stat };
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }
}

/**
 * Reads a trusted regular file whole, from the descriptor that was checked (never reopened by path), at most
 * `maxBytes`. Throws what openTrusted throws, TrustError FILE_TOO_LARGE, or EISDIR for a directory.
 */
export function readTrustedFile(file: string, options: TrustOptions & { readonly maxBytes: number }): { bytes: Buffer; realPath: string } {
  const handle = openTrusted(file, 'read', options);
  try {
    return { bytes: readOpenedSync(handle.fd, handle.stat, file, { what: options.what, maxBytes: options.maxBytes }), realPath: handle.realPath };
  } finally {
    fs.closeSync(handle.fd);
  }
}

/** Checks a trusted regular file without reading it (a command to run, a secret held elsewhere); throws as openTrusted. */
export function checkTrustedFile(file: string, options: TrustOptions): { realPath: string; stat: fs.Stats } {
  const handle = openTrusted(file, 'path', options);
  fs.closeSync(handle.fd);
  return { realPath: handle.realPath, stat: handle.stat };
}

/** Runs `use` with a trusted directory open (read-only, for fsync and lookups through it), then closes it; throws as openTrusted. */
export function withTrustedDirectory<T>(dir: string, options: TrustOptions, use: (handle: TrustedHandle) => T): T {
  const handle = openTrusted(dir, 'directory', options);
  try {
    return use(handle);
  } finally {
    fs.closeSync(handle.fd);
  }
}

/** Runs a lookup through a descriptor; its error names the real path (`at`), not /proc/self/fd/N/NAME. */
function named<T>(at: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (typeof e.path === 'string' && e.path.startsWith('/proc/self/fd/')) {
      e.message = e.message.replace(e.path, at);
      e.path = at;
    }
    throw error;
  }
}

function untrusted(file: string, what: string, reason: string, role: TrustRole, at: string, stat: fs.Stats): TrustError {
  const sticky = role === 'ancestor' ? ' (or add the sticky bit, and keep what is reached through it owned by root)' : '';
  return new TrustError('FILE_UNTRUSTED', `refusing ${what} ${file}: ${reason}`, {
    evidence: { file, at, role, uid: stat.uid, mode: modeText(stat.mode), reason },
    hint: `the agent runs as root: keep ${at} owned by root and writable by nobody else (chown root ${at} && chmod go-w ${at})${sticky}, or use another path`,
  });
}

function wrongType(file: string, what: string, at: string, stat: fs.Stats, expected: string): TrustError {
  const type = fileTypeOf(stat);
  return new TrustError('FILE_WRONG_TYPE', `${what} ${file} is a ${type} (${at}), not a ${expected}`, {
    evidence: { file, at, type, expected },
    hint: `point it at a ${expected}`,
  });
}
