/** Copies one store object from the lower layer into the upper layer's filesystem, never following a symlink. */
import fs from 'node:fs';
import { errnoCode, messageOf } from '../errors/index.ts';
import { PivotError } from './pivot-errors.ts';

/**
 * Copies the store object at `source` to `target` (which must not exist), as Nix keeps store objects: directories,
 * regular files (executable or not) and symlinks only, read-only modes (0555 directories and executables, 0444 other
 * files), the source's mtime (Nix's is 1). A symlink is copied as a symlink, never followed, so nothing outside the
 * layer is read. Returns the bytes of file contents copied. On failure whatever was made under `target` stays (the
 * caller removes it). File contents are copied off the event loop (copy_file_range where the kernel has it), so an
 * agent running pivot keeps answering meanwhile; the metadata calls, each short, are made in line.
 * @throws PivotError PIVOT_COPY_FAILED (evidence: source, target, path, errno; or the unsupported file type).
 */
export async function copyStoreObject(source: string, target: string): Promise<number> {
  try {
    return await copyEntry(source, target);
  } catch (cause) {
    if (cause instanceof PivotError) throw cause;
    const errno = errnoCode(cause);
    throw new PivotError('PIVOT_COPY_FAILED', `cannot copy ${source} to ${target} (${errno ?? messageOf(cause)})`, {
      evidence: { source, target, errno },
      hint: errno === 'ENOSPC' || errno === 'EDQUOT' ? "free space on the upper layer's filesystem, then run pivot again" : 'run pivot as root',
      cause,
    });
  }
}

/** A path as fs takes it: a string, or bytes for a name that is not ASCII. */
export type FsPath = string | Buffer;

async function copyEntry(source: FsPath, target: FsPath): Promise<number> {
  const st = fs.lstatSync(source);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(source, { encoding: 'buffer' }), target);
    fs.lutimesSync(target, st.atime, st.mtime);
    return 0;
  }
  if (st.isFile()) {
    await fs.promises.copyFile(source, target, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(target, (st.mode & 0o111) !== 0 ? 0o555 : 0o444);
    fs.utimesSync(target, st.atime, st.mtime);
    return st.size;
  }
  if (st.isDirectory()) {
    fs.mkdirSync(target, { mode: 0o700 });
    let bytes = 0;
    for (const name of fs.readdirSync(source, { encoding: 'buffer' })) bytes += await copyEntry(childPath(source, name), childPath(target, name));
    fs.chmodSync(target, 0o555);
    fs.utimesSync(target, st.atime, st.mtime);
    return bytes;
  }
  throw new PivotError('PIVOT_COPY_FAILED', `${source} is neither a directory, a regular file nor a symlink: a store object holds no other kind`, {
    evidence: { source, target, mode: st.mode },
    hint: 'the lower store is damaged here: `overlay-warden verify --lower` says which path',
  });
}

/** `dir/name`: a string while every byte is ASCII, else bytes (fs takes either; a name need not be UTF-8). */
export function childPath(dir: FsPath, name: Buffer): FsPath {
  if (typeof dir === 'string' && name.every((byte) => byte < 0x80)) return `${dir}/${name.toString('latin1')}`;
  return Buffer.concat([typeof dir === 'string' ? Buffer.from(dir) : dir, Buffer.from('/'), name]);
}
