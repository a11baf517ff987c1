/** Check: the upper layer exists, is a writable directory on a filesystem with the xattrs and d_type OverlayFS needs, with room to grow. */
import fs from 'node:fs';
import { formatBytes, resolveAmount, type Amount } from '../config/index.ts';
import { errnoCode } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import type { Check } from './check.ts';
import { supportsDType, supportsOverlayXattrs, type Capability } from './fs-capabilities.ts';
import { probePath, type PathState } from './lower-layer-files.ts';
import { fsOfPath, type FsOfPath, type MountFacts } from './mount-facts.ts';

/** How many directory entries are read to judge d_type support: enough to see the filesystem's behaviour, cheap on a huge layer. */
export const D_TYPE_SAMPLE = 32;

/** Space and inodes of the upper layer's filesystem (statfs), in blocks of `bsize` bytes. */
export interface SpaceFacts {
  readonly bsize: number;
  readonly blocks: number;
  /** Blocks available to unprivileged users (what `df` shows as available). */
  readonly bavail: number;
  /** Total inodes; 0 on filesystems without a fixed inode table (btrfs), where the inode check does not apply. */
  readonly files: number;
  readonly ffree: number;
}

/** What was found of the upper layer. Probed without writing anything: stat, access, statfs, a few readdir entries. */
export interface UpperLayerFacts {
  readonly path: string;
  readonly state: PathState;
  /**
   * access(W_OK) for the real `uid` of the probing process: false with the errno (EROFS on a read-only filesystem,
   * EPERM when immutable, EACCES when the permission bits refuse this uid, which says nothing of root); undefined
   * when not probed.
   */
  readonly writable: { readonly ok: boolean; readonly errno: string | undefined; readonly uid: number } | undefined;
  /** The filesystem holding it, from the mount table. */
  readonly fs: FsOfPath | undefined;
  /** Whether the overlay uses user.overlay.* xattrs (`userxattr`). */
  readonly userxattr: boolean;
  readonly xattrs: Capability;
  /** d_type: from readdir when the layer has entries, else from the filesystem type. */
  readonly dType: { readonly supported: Capability; readonly from: 'readdir' | 'fs-type'; readonly sampled: number; readonly untyped: number };
  readonly space: SpaceFacts | undefined;
}

/**
 * Reads up to `limit` entries of `dir` and counts those whose type the filesystem did not report (DT_UNKNOWN).
 * Node fills a missing d_type with an lstat and then builds a `DirentFromStats` (a subclass of `fs.Dirent`), so an
 * entry whose prototype is not `fs.Dirent.prototype` is one the filesystem returned without a type.
 */
export function sampleDirentTypes(dir: string, limit = D_TYPE_SAMPLE): { sampled: number; untyped: number } {
  const handle = fs.opendirSync(dir, { bufferSize: limit });
  let sampled = 0;
  let untyped = 0;
  try {
    for (let entry = handle.readSync(); entry !== null && sampled < limit; entry = handle.readSync()) {
      sampled++;
      if (Object.getPrototypeOf(entry) !== fs.Dirent.prototype) untyped++;
    }
  } finally {
    handle.closeSync();
  }
  return { sampled, untyped };
}

/** Probes the upper layer at `facts.expected.upperLayer` (stat, access, statfs, a readdir sample); never writes. */
export function probeUpperLayer(facts: MountFacts): UpperLayerFacts {
  const path = facts.expected.upperLayer.path;
  const state = probePath(path, 'directory');
  const fsInfo = facts.status === 'read' ? fsOfPath(facts.table, path) : undefined;
  const userxattr = facts.status === 'read' && facts.options?.userxattr === true;
  const xattrs = fsInfo === undefined ? 'unknown' : supportsOverlayXattrs(fsInfo.fsType, userxattr);
  const byType: Capability = fsInfo === undefined ? 'unknown' : supportsDType(fsInfo.fsType);
  if (state.kind !== 'ok') {
    return {
      path,
      state,
      writable: undefined,
      fs: fsInfo,
      userxattr,
      xattrs,
      dType: { supported: byType, from: 'fs-type', sampled: 0, untyped: 0 },
      space: undefined,
    };
  }
  let writable: UpperLayerFacts['writable'];
  const uid = process.getuid?.() ?? 0;
  try {
    fs.accessSync(path, fs.constants.W_OK);
    writable = { ok: true, errno: undefined, uid };
  } catch (error) {
    writable = { ok: false, errno: errnoCode(error), uid };
  }
  let sample = { sampled: 0, untyped: 0 };
  try {
    sample = sampleDirentTypes(path);
  } catch {
    // Unreadable after all: the d_type question falls back to the filesystem type.
  }
  const dType =
    sample.sampled > 0
      ? { supported: (sample.untyped === 0 ? 'yes' : 'no') as Capability, from: 'readdir' as const, ...sample }
      : { supported: byType, from: 'fs-type' as const, ...sample };
  let space: SpaceFacts | undefined;
  try {
    const s = fs.statfsSync(path);
    space = { bsize: s.bsize, blocks: s.blocks, bavail: s.bavail, files: s.files, ffree: s.ffree };
  } catch {
    space = undefined;
  }
  return { path, state, writable, fs: fsInfo, userxattr, xattrs, dType, space };
}

export interface UpperLayerThresholds {
  readonly minFreeSpace: Amount;
  readonly minFreeInodes: Amount;
  /** The store is meant to be read-only: an unwritable upper layer is then expected. */
  readonly expectReadOnly: boolean;
}

/**
 * Decides (pure): `layer.upper-missing` / `layer.upper-not-directory` (errors), `layer.upper-not-writable` (error
 * unless the store is meant to be read-only; `check.unprivileged`, a warning, instead when only the permission
 * bits refuse a user other than root), `layer.upper-no-xattr` (warning: its filesystem type keeps no
 * overlay xattrs, so opaque dirs and redirects fail), `layer.upper-no-d-type` (warning: readdir returns no entry
 * types, so whiteouts are not seen), `layer.upper-low-space` and `layer.upper-low-inodes` (warnings, against the
 * configured thresholds; a share is of the filesystem's total).
 */
export function decideUpperLayerFiles(facts: UpperLayerFacts, thresholds: UpperLayerThresholds): Finding[] {
  const out: Finding[] = [];
  const { path, state } = facts;
  if (state.kind === 'missing' || state.kind === 'unreadable') {
    out.push(
      finding(
        'layer.upper-missing',
        'error',
        `the upper layer ${path} ${state.kind === 'missing' ? 'does not exist' : 'cannot be read'}${state.errno === undefined ? '' : ` (${state.errno})`}`,
        { path, problem: state.kind, errno: state.errno ?? null },
        state.kind === 'missing' ? "create it (mkdir -p) on the filesystem meant for it, or fix the store URL's `upper-layer`" : 'run overlay-warden as root',
      ),
    );
    return out;
  }
  if (state.kind !== 'ok') {
    out.push(
      finding(
        'layer.upper-not-directory',
        'error',
        `the upper layer ${path} is not a directory`,
        { path },
        "point `upper-layer` at the overlay's upperdir, a directory",
      ),
    );
    return out;
  }
  const roMount = facts.fs?.readOnly === true;
  const { writable } = facts;
  // Permission bits that refuse another user are no finding about the layer: root would be let in.
  const refusedToUser = writable?.ok === false && writable.errno === 'EACCES' && writable.uid !== 0 && !roMount;
  if (refusedToUser && !thresholds.expectReadOnly) {
    out.push(
      finding(
        'check.unprivileged',
        'warning',
        `the check ran unprivileged (uid ${writable.uid}): it could not judge whether root can write the upper layer ${path}, which this user may not (EACCES)`,
        { path, uid: writable.uid, errno: 'EACCES', notJudged: 'upper layer writable by root' },
        'run it as root (e.g. sudo overlay-warden check) to judge that too',
      ),
    );
  } else if ((facts.writable?.ok === false || roMount) && !thresholds.expectReadOnly) {
    out.push(
      finding(
        'layer.upper-not-writable',
        'error',
        `the upper layer ${path} is not writable${facts.writable?.errno === undefined ? '' : ` (${facts.writable.errno})`}${roMount ? `: it is on the read-only mount ${facts.fs?.mountPoint}` : ''}; Nix deletes paths there directly during GC and optimise`,
        { path, errno: facts.writable?.errno ?? null, ...(facts.fs === undefined ? {} : { mountPoint: facts.fs.mountPoint, mountinfo: facts.fs.line }) },
        roMount ? `mount -o remount,rw '${facts.fs?.mountPoint}'` : 'make it writable for root (chmod/chattr), or set checks.expectReadOnly: true',
      ),
    );
  }
  if (facts.xattrs === 'no' && facts.fs !== undefined) {
    const ns = facts.userxattr ? 'user.overlay.*' : 'trusted.overlay.*';
    out.push(
      finding(
        'layer.upper-no-xattr',
        'warning',
        `the upper layer ${path} is on ${facts.fs.fsType}, which does not keep ${ns} xattrs: OverlayFS cannot mark opaque dirs or redirects there, so re-creating a deleted lower path fails`,
        { path, fsType: facts.fs.fsType, xattrNamespace: ns, mountPoint: facts.fs.mountPoint, mountinfo: facts.fs.line },
        'put the upper layer on ext4, xfs, btrfs or tmpfs',
      ),
    );
  }
  if (facts.dType.supported === 'no') {
    out.push(
      finding(
        'layer.upper-no-d-type',
        'warning',
        `the filesystem of the upper layer ${path} returns no entry types from readdir (d_type): OverlayFS needs them to see whiteouts, so deleted lower paths can reappear`,
        { path, from: facts.dType.from, sampled: facts.dType.sampled, untyped: facts.dType.untyped, fsType: facts.fs?.fsType ?? null },
        'use a filesystem with d_type (xfs needs ftype=1: xfs_info shows it; ext4 has it by default)',
      ),
    );
  }
  const s = facts.space;
  if (s !== undefined && s.blocks > 0) {
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    const min = resolveAmount(thresholds.minFreeSpace, total);
    if (free < min) {
      out.push(
        finding(
          'layer.upper-low-space',
          'warning',
          `the upper layer's filesystem has ${formatBytes(free)} available of ${formatBytes(total)}, below the threshold of ${formatBytes(min)}: builds and substitutions into the store will fail when it fills`,
          { path, availableBytes: free, totalBytes: total, thresholdBytes: min, threshold: thresholds.minFreeSpace },
          "free space: collect garbage through the overlay store (nix-collect-garbage), and drop upper copies of paths the lower store already has (overlay-warden audit --hash-duplicates lists them as store.duplicate; nix-store --optimise through the overlay store deletes those the upper DB registers, whether or not the copies are the same, then runs the store's remount-hook); or grow the filesystem, or lower checks.upperMinFreeSpace",
        ),
      );
    }
  }
  if (s !== undefined && s.files > 0) {
    const min = resolveAmount(thresholds.minFreeInodes, s.files);
    if (s.ffree < min) {
      out.push(
        finding(
          'layer.upper-low-inodes',
          'warning',
          `the upper layer's filesystem has ${s.ffree} free inodes of ${s.files}, below the threshold of ${Math.ceil(min)}: new store paths will fail with "No space left on device" before the space runs out`,
          { path, freeInodes: s.ffree, totalInodes: s.files, threshold: thresholds.minFreeInodes, thresholdInodes: min },
          'delete unused store paths (nix-collect-garbage), or lower checks.upperMinFreeInodes',
        ),
      );
    }
  }
  return out;
}

export const upperLayerFilesCheck: Check = {
  id: 'layer.upper',
  title: 'upper layer is a writable directory with xattrs, d_type and room',
  run: (context) =>
    decideUpperLayerFiles(probeUpperLayer(context.mount), {
      minFreeSpace: context.config.checks.upperMinFreeSpace,
      minFreeInodes: context.config.checks.upperMinFreeInodes,
      expectReadOnly: context.config.checks.expectReadOnly,
    }),
};
