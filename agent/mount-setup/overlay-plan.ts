/** What `overlay-warden mount` will do, decided from the configuration alone: the layers, the work dir and the exact mount command. */
import path from 'node:path';
import type { Config } from '../config/index.ts';
import { WardenError } from '../errors/index.ts';
import { canonAbsolutePath, MOUNT_ENV, overlayMountOptions, type OverlaySpec } from '../mount/index.ts';

export type MountSetupErrorCode =
  | 'MOUNT_SETUP_LAYOUT'
  | 'MOUNT_SETUP_LOWER_MISSING'
  | 'MOUNT_SETUP_NOT_A_DIRECTORY'
  | 'MOUNT_SETUP_SYMLINK'
  | 'MOUNT_SETUP_WORKDIR_OTHER_FS'
  | 'MOUNT_SETUP_CREATE_FAILED'
  | 'MOUNT_SETUP_OTHER_MOUNT'
  | 'MOUNT_SETUP_MOUNTINFO'
  | 'MOUNT_SETUP_UNMOUNT_FAILED';

/** Setting the overlay up cannot go on; nothing was mounted (or what was mounted was taken down again). */
export class MountSetupError extends WardenError<MountSetupErrorCode> {}

export interface OverlayPlan {
  /** The layers and the mount point, as mountOverlay takes them. */
  readonly spec: OverlaySpec;
  /** Whether `mount.workDir` set the work dir, or it is the default beside the upper layer. */
  readonly workDirSource: 'mount.workDir' | 'default';
  /** `mount`'s argv (after its environment, MOUNT_ENV). */
  readonly argv: readonly string[];
  /** The same command as one line a shell runs as it is (what `--dry-run` prints). */
  readonly shellCommand: string;
}

/**
 * The overlay the configuration describes: lowerdir = `mount.extraLowerDirs` (top first) above the lower store's
 * real store dir, upperdir = the upper layer, workdir = `mount.workDir` or `work` beside the upper layer, mounted
 * on the merged store dir with `mount.options` appended. Pure.
 *
 * Throws MountSetupError MOUNT_SETUP_LAYOUT when the layers overlap in a way the kernel refuses or that would put
 * one layer inside another (the work dir inside the upper layer, the upper layer inside a lower one…), and
 * MountOverlayError MOUNT_OPTIONS_TOO_LONG when the options do not fit in a page.
 */
export function planOverlay(config: Pick<Config, 'layout' | 'mount'>): OverlayPlan {
  const { layout } = config;
  const upper = layout.upperLayer;
  const defaultWork = path.posix.join(path.posix.dirname(upper), 'work');
  const workDir = config.mount.workDir === undefined ? defaultWork : (canonAbsolutePath(config.mount.workDir) ?? config.mount.workDir);
  const workDirSource = config.mount.workDir === undefined ? 'default' : 'mount.workDir';
  const lowerDirs = [...config.mount.extraLowerDirs.map((dir) => canonAbsolutePath(dir) ?? dir), layout.lower.realStoreDir];
  const spec: OverlaySpec = { lowerDirs, upperDir: upper, workDir, mergedDir: layout.mergedStoreDir, extraOptions: config.mount.options };
  checkSeparateLayers(spec, workDirSource);
  const argv = ['mount', '-t', 'overlay', 'overlay', '-o', overlayMountOptions(spec), spec.mergedDir];
  const shellCommand = [...Object.entries(MOUNT_ENV).map(([name, value]) => `${name}=${value}`), ...argv.map(shellQuote)].join(' ');
  return { spec, workDirSource, argv, shellCommand };
}

/** `word` quoted for a POSIX shell when it needs it. Pure. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** True when `inner` is `outer` or below it (both canonical). */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer === '/' ? '/' : `${outer}/`);
}

function checkSeparateLayers(spec: OverlaySpec, workDirSource: OverlayPlan['workDirSource']): void {
  const named: Array<readonly [string, string]> = [
    ['the upper layer (upper-layer)', spec.upperDir],
    [`the work dir (${workDirSource === 'default' ? 'default: `work` beside the upper layer' : 'mount.workDir'})`, spec.workDir],
    ['the merged store dir', spec.mergedDir],
    ...spec.lowerDirs.map((dir, i): readonly [string, string] => [
      i === spec.lowerDirs.length - 1 ? "the lower store's store dir (lower-store)" : `mount.extraLowerDirs[${i}]`,
      dir,
    ]),
  ];
  for (const [i, [aName, a]] of named.entries()) {
    for (const [bName, b] of named.slice(i + 1)) {
      // The merged dir sits on its lower layer's path in some setups (a store overlaid onto itself): only the upper
      // layer and the work dir must be apart from everything.
      const involvesWritable = [aName, bName].some((name) => name.startsWith('the upper layer') || name.startsWith('the work dir'));
      if (!involvesWritable || !(within(a, b) || within(b, a))) continue;
      throw new MountSetupError('MOUNT_SETUP_LAYOUT', `${aName} ${a} and ${bName} ${b} overlap: OverlayFS needs them to be separate directory trees`, {
        evidence: { [aName]: a, [bName]: b },
        hint:
          workDirSource === 'default' && (aName.startsWith('the work dir') || bName.startsWith('the work dir'))
            ? "set mount.workDir to an empty directory on the upper layer's filesystem, outside every layer"
            : 'give each layer a directory of its own (the upper layer and the work dir side by side, e.g. /var/lib/nix-overlay/upper and …/work)',
      });
    }
  }
}
