/** Check: the lower store's dir and DB (or, for a daemon lower store, its daemon) are usable, and whether anything stops the lower store from changing. */
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { finding, type Finding } from '../findings/index.ts';
import { describeNixDbContent, inspectNixDbFile, type LowerStoreLayout, type NixDbContent } from '../store/index.ts';
import type { Check } from './check.ts';
import { decideLowerDaemon, probeLowerDaemon } from './lower-daemon.ts';
import { fsOfPath, type FsOfPath, type MountFacts } from './mount-facts.ts';

/** What a probe of a directory or file found. */
export type PathState =
  { readonly kind: 'ok' } | { readonly kind: 'missing' | 'not-directory' | 'not-file' | 'unreadable'; readonly errno: string | undefined };

/** What was found of the lower store on disk (probed with stat and access only: nothing is opened for writing). */
export interface LowerLayerFacts {
  /** The lower store's real store dir, canonical. */
  readonly storeDir: string;
  readonly storeDirState: PathState;
  /** Its DB; undefined when its metadata comes from a daemon overlay-warden cannot see. */
  readonly db: string | undefined;
  readonly dbState: PathState | undefined;
  /** What the DB file holds (read with `immutable=1`: nothing created beside it), when it is there and readable. */
  readonly dbContent?: NixDbContent | undefined;
  /** The filesystem holding the store dir, from the mount table; undefined when unknown. */
  readonly fs: FsOfPath | undefined;
}

/** stat + access(R_OK|X_OK) of a directory, or access(R_OK) of a file. */
export function probePath(path: string, kind: 'directory' | 'file'): PathState {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(path);
  } catch (error) {
    const errno = errnoCode(error);
    return { kind: errno === 'ENOENT' || errno === 'ENOTDIR' ? 'missing' : 'unreadable', errno };
  }
  if (kind === 'directory' && !stats.isDirectory()) return { kind: 'not-directory', errno: undefined };
  if (kind === 'file' && !stats.isFile()) return { kind: 'not-file', errno: undefined };
  try {
    fs.accessSync(path, kind === 'directory' ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK);
  } catch (error) {
    return { kind: 'unreadable', errno: errnoCode(error) };
  }
  return { kind: 'ok' };
}

/** Probes the lower store's dir and DB (read-only: stat and access, and the DB's header and tables). */
export function probeLowerLayer(facts: MountFacts, lower: LowerStoreLayout): LowerLayerFacts {
  const storeDir = facts.expected.lowerStoreDir.path;
  const dbState = lower.db === undefined ? undefined : probePath(lower.db, 'file');
  return {
    storeDir,
    storeDirState: probePath(storeDir, 'directory'),
    db: lower.db,
    dbState,
    dbContent: lower.db !== undefined && dbState?.kind === 'ok' ? inspectNixDbFile(lower.db, false).content : undefined,
    fs: facts.status === 'read' ? fsOfPath(facts.table, storeDir) : undefined,
  };
}

const DESCRIBE: Record<Exclude<PathState['kind'], 'ok'>, string> = {
  missing: 'does not exist',
  'not-directory': 'is not a directory',
  'not-file': 'is not a regular file',
  unreadable: 'cannot be read',
};

/**
 * Decides (pure): `layer.lower-store-missing` (error: the lower store dir is missing, not a directory or
 * unreadable), `layer.lower-db-missing` (error: the dir is there but its DB is not, so Nix cannot open the lower store),
 * `layer.lower-db-invalid` (error: the DB file is empty, not SQLite, or not Nix's schema), and for a present
 * store dir `layer.lower-read-only` (info: it sits on a read-only mount, so it cannot change under the overlay)
 * or `layer.lower-writable` (warning: nothing stops it from changing while mounted).
 */
export function decideLowerLayerFiles(facts: LowerLayerFacts, lower: LowerStoreLayout): Finding[] {
  const out: Finding[] = [];
  const dir = facts.storeDirState;
  if (dir.kind !== 'ok') {
    out.push(
      finding(
        'layer.lower-store-missing',
        'error',
        `the lower store's store dir ${facts.storeDir} ${DESCRIBE[dir.kind]}${dir.errno === undefined ? '' : ` (${dir.errno})`}`,
        { path: facts.storeDir, problem: dir.kind, errno: dir.errno ?? null, lowerStore: lower.url },
        dir.kind === 'unreadable'
          ? 'run overlay-warden as a user who can read the lower store'
          : "set `lower-store` to the store whose store dir is the overlay's lowerdir (its `real`, or ROOT/nix/store)",
      ),
    );
  }
  const db = facts.dbState;
  // Without its store dir the lower store is wrong as a whole; its DB is then not worth a finding of its own.
  if (dir.kind === 'ok' && db !== undefined && db.kind !== 'ok') {
    out.push(
      finding(
        'layer.lower-db-missing',
        'error',
        `the lower store's DB ${facts.db} ${DESCRIBE[db.kind]}${db.errno === undefined ? '' : ` (${db.errno})`}: Nix cannot open the lower store to read its paths' metadata`,
        { path: facts.db, problem: db.kind, errno: db.errno ?? null, lowerStore: lower.url },
        "point `lower-store` at the lower store's root (or its `state`) so that STATE/db/db.sqlite is its DB",
      ),
    );
  }
  const content = facts.dbContent;
  if (dir.kind === 'ok' && db?.kind === 'ok' && content !== undefined && content !== 'nix-db') {
    out.push(
      finding(
        'layer.lower-db-invalid',
        'error',
        `the lower store's DB ${facts.db} is not a Nix DB: it is ${describeNixDbContent(content)}, so Nix cannot open the lower store`,
        { path: facts.db, content, lowerStore: lower.url },
        "restore the lower store's DB (it must be the DB Nix wrote for the lower store), or point `lower-store` at the right root or `state`",
      ),
    );
  }
  if (dir.kind === 'ok' && facts.fs !== undefined) {
    const evidence = { path: facts.storeDir, mountPoint: facts.fs.mountPoint, fsType: facts.fs.fsType, readOnly: facts.fs.readOnly, mountinfo: facts.fs.line };
    if (facts.fs.readOnly) {
      out.push(
        finding(
          'layer.lower-read-only',
          'info',
          `the lower store ${facts.storeDir} is on a read-only mount (${facts.fs.mountPoint}), so it cannot change under the overlay`,
          evidence,
        ),
      );
    } else {
      out.push(
        finding(
          'layer.lower-writable',
          'warning',
          `the lower store ${facts.storeDir} is on a writable mount (${facts.fs.mountPoint}): nothing stops it from changing under the live overlay, which OverlayFS leaves undefined and which can break the upper store's closures`,
          evidence,
          readOnlyHint(facts.storeDir, facts.fs.mountPoint),
        ),
      );
    }
  }
  return out;
}

/**
 * How to make the lower store dir read-only without touching anything else (pure): remounting the filesystem it sits
 * on would make that whole filesystem read-only (the host's root, when the store is on `/`), so the store dir becomes
 * a read-only bind mount of itself, unless it is a mount point of its own.
 */
export function readOnlyHint(storeDir: string, mountPoint: string): string {
  const dir = shQuote(storeDir);
  const command = mountPoint === storeDir ? `mount -o remount,bind,ro ${dir}` : `mount --bind ${dir} ${dir} && mount -o remount,bind,ro ${dir}`;
  return `make the lower store dir read-only, and only it: ${command} (at once; to keep it after a reboot, do it where the overlay is mounted, before it: the same unit or fstab); overlay-warden's drift detection watches it meanwhile`;
}

/** `'…'` for sh, with embedded single quotes handled. */
function shQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

export const lowerLayerFilesCheck: Check = {
  id: 'layer.lower',
  title: 'lower store dir and DB (or daemon) are readable; lower is read-only',
  run: async (context, signal) => {
    const lower = context.config.layout.lower;
    const files = decideLowerLayerFiles(probeLowerLayer(context.mount, lower), lower);
    // A daemon lower store's metadata comes through its socket: that it answers is part of the lower store being usable.
    if (lower.kind !== 'daemon' || lower.daemonSocket === undefined) return files;
    return [...files, ...decideLowerDaemon(await probeLowerDaemon(lower, lower.daemonSocket, signal), lower)];
  },
};
