/** Reads overlayfs super options (as printed in mountinfo) into layers and the options that matter for a store. */
import { OverlayOptionsError } from './mount-errors.ts';
import { dropBackslashEscapes, splitLowerdir, type OverlayLowerLayer } from './lowerdir-syntax.ts';
import { unescapeMountinfo } from './mountinfo-escape.ts';

export type RedirectDirMode = 'on' | 'off' | 'follow' | 'nofollow';
export type XinoMode = 'on' | 'off' | 'auto';
export type UuidMode = 'on' | 'off' | 'null' | 'auto';
export type VerityMode = 'on' | 'off' | 'require';
export type FsyncMode = 'auto' | 'strict' | 'volatile';

/** An option this model does not interpret, kept in order. */
export interface OtherOverlayOption {
  readonly key: string;
  readonly value: string | undefined;
}

/**
 * What an overlay's super options say. The kernel prints an option only when it differs from the module's
 * default (`/sys/module/overlay/parameters/*`), so `undefined` means "the kernel default", not "off".
 */
export interface OverlayOptions {
  /** Top layer first; regular layers, then data-only layers. */
  readonly lowerLayers: readonly OverlayLowerLayer[];
  /** How the lower layers were given: one `lowerdir=` list, or one `lowerdir+=`/`datadir+=` per layer. */
  readonly lowerSyntax: 'lowerdir' | 'lowerdir+';
  /** The upper layer as given at mount time; undefined for a read-only overlay of lower layers only. */
  readonly upperdir: string | undefined;
  readonly workdir: string | undefined;
  /** The leading `ro`/`rw` of the super options (the superblock flag); undefined when absent. */
  readonly superblockReadOnly: boolean | undefined;
  readonly index: boolean | undefined;
  readonly metacopy: boolean | undefined;
  readonly redirectDir: RedirectDirMode | undefined;
  readonly xino: XinoMode | undefined;
  readonly uuid: UuidMode | undefined;
  readonly nfsExport: boolean | undefined;
  readonly verity: VerityMode | undefined;
  /** `fsync=` (Linux 6.12+ backports): `volatile` is the same as the `volatile` flag. */
  readonly fsync: FsyncMode | undefined;
  /** `volatile`, or `fsync=volatile`: no syncs to the upper layer; after a crash the next mount is refused. */
  readonly volatile: boolean;
  /** `userxattr` → true, `nouserxattr` (printed by some kernels) → false, neither → undefined. */
  readonly userxattr: boolean | undefined;
  readonly defaultPermissions: boolean;
  /** Options not modelled above, in order. */
  readonly other: readonly OtherOverlayOption[];
}

type MutableOptions = { -readonly [K in keyof OverlayOptions]: OverlayOptions[K] };

const ON_OFF = ['on', 'off'] as const;
const REDIRECT_DIR = ['on', 'off', 'follow', 'nofollow'] as const;
const XINO = ['on', 'off', 'auto'] as const;
const UUID = ['on', 'off', 'null', 'auto'] as const;
const VERITY = ['on', 'off', 'require'] as const;
const FSYNC = ['auto', 'strict', 'volatile'] as const;

/**
 * Parses overlay super options. Accepts either the raw field as printed in mountinfo (split at its commas, then
 * each option octal-unescaped) or an already split and unescaped list (`MountinfoEntry.superOptions`).
 *
 * Follows the kernel (fs/overlayfs/params.c, checked against Linux 6.18):
 * - `lowerdir=` is shown as the mounter wrote it: layers split at unescaped `:`, `::` starts data-only layers,
 *   and a backslash makes the next character literal (`\:` colon, `\\` backslash, `\,` comma);
 * - `lowerdir+=`/`datadir+=` are shown one per layer and taken literally (no `:` splitting, no backslash rule);
 * - `upperdir=`/`workdir=` are shown as written, and a backslash makes the next character literal.
 *
 * @throws OverlayOptionsError `OVERLAY_LOWERDIR_MALFORMED`, `OVERLAY_LOWER_LAYERS_MIXED`, `OVERLAY_LOWER_MISSING`,
 *   `OVERLAY_OPTION_BAD_VALUE`, `OVERLAY_OPTION_DUPLICATE` for options the kernel could not have printed.
 */
export function parseOverlayOptions(superOptions: string | readonly string[]): OverlayOptions {
  const list = typeof superOptions === 'string' ? superOptions.split(',').map(unescapeMountinfo) : superOptions;
  const out: MutableOptions = {
    lowerLayers: [],
    lowerSyntax: 'lowerdir',
    upperdir: undefined,
    workdir: undefined,
    superblockReadOnly: undefined,
    index: undefined,
    metacopy: undefined,
    redirectDir: undefined,
    xino: undefined,
    uuid: undefined,
    nfsExport: undefined,
    verity: undefined,
    fsync: undefined,
    volatile: false,
    userxattr: undefined,
    defaultPermissions: false,
    other: [],
  };
  const seen = new Set<string>();
  const layers: OverlayLowerLayer[] = [];
  const other: OtherOverlayOption[] = [];
  let sawLowerdir = false;
  let sawAppend = false;

  for (const option of list) {
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? undefined : option.slice(eq + 1);
    const once = (): void => {
      if (seen.has(key)) throw new OverlayOptionsError('OVERLAY_OPTION_DUPLICATE', `overlay option '${key}' is given twice`, option);
      seen.add(key);
    };
    const need = <T extends string>(allowed: readonly T[]): T => {
      once();
      if (value === undefined || !(allowed as readonly string[]).includes(value)) {
        throw new OverlayOptionsError(
          'OVERLAY_OPTION_BAD_VALUE',
          `overlay option '${key}' needs one of ${allowed.join(', ')}, not ${value === undefined ? 'no value' : `'${value}'`}`,
          option,
          { allowed },
        );
      }
      return value as T;
    };
    const flag = (): true => {
      once();
      if (value !== undefined) {
        throw new OverlayOptionsError('OVERLAY_OPTION_BAD_VALUE', `overlay option '${key}' takes no value, not '${value}'`, option);
      }
      return true;
    };
    const path = (): string => {
      once();
      if (value === undefined || value === '') {
        throw new OverlayOptionsError('OVERLAY_OPTION_BAD_VALUE', `overlay option '${key}' needs a path`, option);
      }
      const unescaped = dropBackslashEscapes(value);
      if (unescaped === '') throw new OverlayOptionsError('OVERLAY_OPTION_BAD_VALUE', `overlay option '${key}' names an empty path`, option);
      return unescaped;
    };

    switch (key) {
      case 'ro':
      case 'rw':
        flag();
        if (seen.has(key === 'ro' ? 'rw' : 'ro')) {
          throw new OverlayOptionsError('OVERLAY_OPTION_DUPLICATE', "overlay options hold both 'ro' and 'rw'", option);
        }
        out.superblockReadOnly = key === 'ro';
        break;
      case 'lowerdir':
        once();
        if (sawAppend) throw mixed(option);
        sawLowerdir = true;
        layers.push(...splitLowerdir(value ?? '', option));
        break;
      case 'lowerdir+':
      case 'datadir+': {
        if (sawLowerdir) throw mixed(option);
        sawAppend = true;
        if (value === undefined || value === '') {
          throw new OverlayOptionsError('OVERLAY_OPTION_BAD_VALUE', `overlay option '${key}' needs a path`, option);
        }
        const dataOnly = key === 'datadir+';
        if (!dataOnly && layers.some((l) => l.dataOnly)) {
          throw new OverlayOptionsError('OVERLAY_LOWER_LAYERS_MIXED', `'lowerdir+=' cannot follow 'datadir+=' (data-only layers come last)`, option);
        }
        layers.push({ path: value, dataOnly, option: key });
        break;
      }
      case 'upperdir':
        out.upperdir = path();
        break;
      case 'workdir':
        out.workdir = path();
        break;
      case 'index':
        out.index = need(ON_OFF) === 'on';
        break;
      case 'metacopy':
        out.metacopy = need(ON_OFF) === 'on';
        break;
      case 'nfs_export':
        out.nfsExport = need(ON_OFF) === 'on';
        break;
      case 'redirect_dir':
        out.redirectDir = need(REDIRECT_DIR);
        break;
      case 'xino':
        out.xino = need(XINO);
        break;
      case 'uuid':
        out.uuid = need(UUID);
        break;
      case 'verity':
        out.verity = need(VERITY);
        break;
      case 'fsync':
        out.fsync = need(FSYNC);
        if (out.fsync === 'volatile') out.volatile = true;
        break;
      case 'volatile':
        out.volatile = flag();
        break;
      case 'userxattr':
        out.userxattr = flag();
        break;
      case 'nouserxattr':
        flag();
        out.userxattr = false;
        break;
      case 'default_permissions':
        out.defaultPermissions = flag();
        break;
      default:
        other.push({ key, value });
    }
  }
  if (layers.length === 0 || layers[0]?.dataOnly === true) {
    // Data-only layers are only reachable through a regular one, so the kernel requires one.
    throw new OverlayOptionsError('OVERLAY_LOWER_MISSING', 'overlay options name no regular lower layer', list.join(','));
  }
  out.lowerLayers = layers;
  out.lowerSyntax = sawAppend ? 'lowerdir+' : 'lowerdir';
  out.other = other;
  return out;
}

function mixed(option: string): OverlayOptionsError {
  return new OverlayOptionsError('OVERLAY_LOWER_LAYERS_MIXED', "overlay options mix 'lowerdir=' with 'lowerdir+='/'datadir+='", option);
}
