/**
 * The directories an overlay mount needs, made ready before mounting: the lower layers must exist, a missing upper
 * layer, work dir or mount point is created with safe modes, and the upper layer and work dir must be on one
 * filesystem. Touches only the upper layer's and work dir's paths (and the mount point); never a lower layer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import type { OverlaySpec } from '../mount/index.ts';
import { MountSetupError } from './overlay-plan.ts';

/** One directory `prepareLayerDirs` made (or, on a dry run, would make). */
export interface CreatedDir {
  readonly role: 'upper layer' | 'work dir' | 'merged store dir';
  readonly path: string;
  /** Permission bits, as octal text (`0755`). */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The mode and owner of a new upper layer: those of the lower store's store dir, since the upper layer's root is what
 * the merged store dir shows (Nix makes the store dir `1775 root:nixbld` with build users, `0755` without), but never
 * writable by others, and writable by the group only when sticky (so members cannot remove each other's paths). Pure.
 */
export function upperLayerMode(lowerStoreDir: Pick<fs.Stats, 'mode' | 'uid' | 'gid'>): { mode: number; uid: number; gid: number } {
  const bits = lowerStoreDir.mode & 0o7777;
  const sticky = (bits & 0o1000) !== 0;
  return { mode: bits & (sticky ? 0o1775 : 0o755), uid: lowerStoreDir.uid, gid: lowerStoreDir.gid };
}

/** The work dir holds the kernel's own scratch files: nobody else's business. */
const WORK_DIR_MODE = 0o700;
/** Missing parents and a missing mount point: plain traversable directories, as mkdir -p makes them as root. */
const DIR_MODE = 0o755;

/**
 * Makes the layer dirs of `spec` ready (or, with `dryRun`, only says what it would create). Returns what it created,
 * in order. Throws MountSetupError: MOUNT_SETUP_LOWER_MISSING (a lower layer is missing or not a directory),
 * MOUNT_SETUP_SYMLINK (a layer dir or the mount point is a symlink: overlay-warden never follows one out of a
 * layer), MOUNT_SETUP_NOT_A_DIRECTORY, MOUNT_SETUP_CREATE_FAILED (mkdir or chown failed, with the errno),
 * MOUNT_SETUP_WORKDIR_OTHER_FS (the kernel would refuse with EXDEV-like EINVAL).
 */
export function prepareLayerDirs(spec: OverlaySpec, options: { readonly dryRun: boolean }): CreatedDir[] {
  for (const [i, dir] of spec.lowerDirs.entries()) {
    const stat = lstatOrUndefined(dir);
    if (stat?.isDirectory() === true) continue;
    const role = i === spec.lowerDirs.length - 1 ? "the lower store's store dir" : `the extra lower dir mount.extraLowerDirs[${i}]`;
    throw new MountSetupError(
      'MOUNT_SETUP_LOWER_MISSING',
      stat === undefined
        ? `${role} ${dir} does not exist`
        : `${role} ${dir} is ${stat.isSymbolicLink() ? 'a symlink' : 'not a directory'}, not the directory of a store`,
      {
        evidence: { path: dir, exists: stat !== undefined },
        hint: 'mount or create the lower store first (its store dir must be a real directory), or fix lower-store in the store URL',
      },
    );
  }
  const lowerStoreDir = fs.statSync(spec.lowerDirs.at(-1)!);
  const created: CreatedDir[] = [];
  const ensure = (role: CreatedDir['role'], dir: string, mode: number, uid: number, gid: number): void => {
    const stat = lstatOrUndefined(dir);
    if (stat !== undefined) {
      if (stat.isSymbolicLink()) {
        throw new MountSetupError('MOUNT_SETUP_SYMLINK', `the ${role} ${dir} is a symlink; overlay-warden does not follow symlinks for layer dirs`, {
          evidence: { role, path: dir, target: readlinkOrNull(dir) },
          hint: `name the real directory in the configuration instead of the symlink`,
        });
      }
      if (!stat.isDirectory()) {
        throw new MountSetupError('MOUNT_SETUP_NOT_A_DIRECTORY', `the ${role} ${dir} exists but is not a directory`, {
          evidence: { role, path: dir },
          hint: 'move the file away, or choose another path in the configuration',
        });
      }
      return;
    }
    created.push({ role, path: dir, mode: `0${mode.toString(8)}`, uid, gid });
    if (options.dryRun) return;
    try {
      fs.mkdirSync(path.dirname(dir), { recursive: true, mode: DIR_MODE });
      fs.mkdirSync(dir, { mode });
      // mkdir's mode passes through the umask, and the sticky bit not at all: set both exactly.
      fs.chownSync(dir, uid, gid);
      fs.chmodSync(dir, mode);
    } catch (error) {
      throw new MountSetupError('MOUNT_SETUP_CREATE_FAILED', `creating the ${role} ${dir} failed: ${messageOf(error)}`, {
        cause: error,
        evidence: { role, path: dir, errno: errnoCode(error) ?? null },
        hint: errnoCode(error) === 'ENOSPC' ? 'free space on that filesystem' : 'run as root, and check that the parent directory is writable',
      });
    }
  };
  const upper = upperLayerMode(lowerStoreDir);
  ensure('upper layer', spec.upperDir, upper.mode, upper.uid, upper.gid);
  ensure('work dir', spec.workDir, WORK_DIR_MODE, 0, 0);
  ensure('merged store dir', spec.mergedDir, DIR_MODE, 0, 0);
  if (!options.dryRun) checkOneFilesystem(spec);
  return created;
}

/** The kernel needs upperdir and workdir on one filesystem (it renames between them). */
function checkOneFilesystem(spec: OverlaySpec): void {
  const upperDev = fs.statSync(spec.upperDir).dev;
  const workDev = fs.statSync(spec.workDir).dev;
  if (upperDev === workDev) return;
  throw new MountSetupError(
    'MOUNT_SETUP_WORKDIR_OTHER_FS',
    `the work dir ${spec.workDir} is on another filesystem than the upper layer ${spec.upperDir}; OverlayFS needs both on one`,
    {
      evidence: { upperLayer: spec.upperDir, workDir: spec.workDir, upperDevice: upperDev, workDevice: workDev },
      hint: 'set mount.workDir to an empty directory beside the upper layer, on the same filesystem',
    },
  );
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw new MountSetupError('MOUNT_SETUP_CREATE_FAILED', `cannot look at ${file}: ${messageOf(error)}`, {
      cause: error,
      evidence: { path: file, errno: errnoCode(error) ?? null },
      hint: 'run as root',
    });
  }
}

function readlinkOrNull(file: string): string | null {
  try {
    return fs.readlinkSync(file);
  } catch {
    return null;
  }
}
