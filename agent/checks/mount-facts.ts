/** The mount facts every check reads, gathered once per run: the store dir's mount, what is stacked on it, its overlay layers, canonical paths. */
import fs from 'node:fs';
import type { Config } from '../config/index.ts';
import { errnoCode, messageOf } from '../errors/index.ts';
import {
  readMountinfoText,
  parseMountinfo,
  type MountinfoEntry,
  type MountinfoTable,
  OverlayOptionsError,
  type MountinfoParseError,
  type TrailingCarriageReturns,
  parseOverlayOptions,
  type OverlayOptions,
  MountTable,
} from '../mount/index.ts';
import { parseStoreUrl, type StoreLayout } from '../store/index.ts';
import { resolveAbsolute, resolveMountedPaths, type MounterCwd, type RealpathView, type ResolvedPath } from './layer-paths.ts';

/** A configured path and the store URL setting that decides it (named in findings, so users know what to fix). */
export interface ExpectedPath extends ResolvedPath {
  readonly setting: string;
}

/** The three paths the mount must agree with, canonicalised. */
export interface ExpectedLayout {
  /** The merged store dir: `real`, or `root` + /nix/store, else the store dir. */
  readonly merged: ExpectedPath;
  /** The lower store's real store dir. */
  readonly lowerStoreDir: ExpectedPath;
  readonly upperLayer: ExpectedPath;
}

/** One lower layer of the mount, top first. */
export interface MountedLayer extends ResolvedPath {
  /** 1-based position among the lower layers, top first. */
  readonly position: number;
  readonly dataOnly: boolean;
  readonly option: 'lowerdir' | 'lowerdir+' | 'datadir+';
}

/** The filesystem a path is on, from the mount table (the visible mount containing it). */
export interface FsOfPath {
  readonly mountPoint: string;
  /** `major:minor`: equal devices are one filesystem, whatever the mount points. */
  readonly device: string;
  readonly fsType: string;
  readonly readOnly: boolean;
  readonly line: string;
}

/** The kernel's overlay module defaults, which apply where a mount's options do not say (the kernel prints only differences). */
export interface OverlayModuleDefaults {
  readonly index: boolean | undefined;
  readonly metacopy: boolean | undefined;
  readonly redirectDir: boolean | undefined;
  /** Where they were read. */
  readonly source: string;
}

/** The mount table could not be read: only what the configuration says is known. */
export interface UnreadableMountFacts {
  readonly status: 'unreadable';
  readonly mountinfoFile: string;
  readonly expected: ExpectedLayout;
  readonly error: { readonly errno: string | undefined; readonly message: string };
}

/** The mount table was read: the store dir's place in it. */
export interface ReadMountFacts {
  readonly status: 'read';
  readonly mountinfoFile: string;
  readonly expected: ExpectedLayout;
  readonly table: MountTable;
  /** Lines that did not parse (the rest of the table still did). */
  readonly parseErrors: readonly MountinfoParseError[];
  /** Lines that ended in a carriage return: removed from every line of a CRLF table, else kept as data. */
  readonly carriageReturns: TrailingCarriageReturns | undefined;
  /** The mount really visible at the merged store dir, or undefined when it is not a visible mount point. */
  readonly visible: MountinfoEntry | undefined;
  /** The visible stack there, bottom first (the last one is `visible`). */
  readonly stack: readonly MountinfoEntry[];
  /** Mounts at the merged store dir that no lookup reaches (a mount over one of its ancestors hides them). */
  readonly hidden: readonly MountinfoEntry[];
  /** The visible mount whose filesystem holds the merged store dir (itself when it is a mount point). */
  readonly containing: MountinfoEntry | undefined;
  /** The overlay the store is: `visible` if it is an overlay, else the topmost overlay under it in the stack. */
  readonly overlay: MountinfoEntry | undefined;
  /** Mounts stacked on `overlay` at its mount point, lowest first (they hide it). */
  readonly above: readonly MountinfoEntry[];
  /** Mounts under `overlay` at its mount point, hidden by it (an older mount never unmounted). */
  readonly below: readonly MountinfoEntry[];
  readonly options: OverlayOptions | undefined;
  /** Why the overlay's options could not be read, when they could not. */
  readonly optionsError: { readonly code: string; readonly message: string; readonly option: string } | undefined;
  /** The overlay's lower layers, canonicalised, top first. */
  readonly lowers: readonly MountedLayer[];
  readonly upper: ResolvedPath | undefined;
  readonly work: ResolvedPath | undefined;
  /** Set when relative layer paths were resolved against an inferred working directory. */
  readonly mounterCwd: MounterCwd | undefined;
  readonly upperFs: FsOfPath | undefined;
  readonly workFs: FsOfPath | undefined;
  /** The kernel module's defaults; undefined for a saved table (they are this machine's, not necessarily its). */
  readonly moduleDefaults: OverlayModuleDefaults | undefined;
}

export type MountFacts = UnreadableMountFacts | ReadMountFacts;

/** The paths of `layout` the mount must agree with, canonicalised in `view`, each naming the setting that decides it. Pure apart from `view`. */
export function expectedLayout(layout: StoreLayout, view: RealpathView): ExpectedLayout {
  return {
    merged: { ...resolveAbsolute(layout.mergedStoreDir, view), setting: mergedSetting(layout) },
    lowerStoreDir: { ...resolveAbsolute(layout.lower.realStoreDir, view), setting: 'lower-store' },
    upperLayer: { ...resolveAbsolute(layout.upperLayer, view), setting: 'upper-layer' },
  };
}

/** `real` when the URL sets it, else `root` when set, else `store` (the merged dir is then the store dir). */
function mergedSetting(layout: StoreLayout): string {
  try {
    const url = parseStoreUrl(layout.url);
    return url.real !== undefined ? 'real' : url.root !== undefined ? 'root' : 'store';
  } catch {
    return 'root';
  }
}

export interface MountFactsInput {
  readonly mountinfoFile: string;
  readonly parsed: MountinfoTable;
  readonly layout: StoreLayout;
  readonly view: RealpathView;
  readonly moduleDefaults?: OverlayModuleDefaults | undefined;
}

/**
 * Derives the facts from a parsed table: the visible mount at the merged store dir, the overlay the store is
 * (visible or hidden under a stacked mount), its options, and its layer paths canonicalised as `resolveMountedPaths`
 * does (lower layers and upperdir resolved together, so one inferred working directory serves all). Pure apart
 * from `view`, so tests pass literal tables with `LEXICAL_VIEW`.
 */
export function mountFactsFromTable(input: MountFactsInput): ReadMountFacts {
  const expected = expectedLayout(input.layout, input.view);
  const table = new MountTable(input.parsed.mounts);
  const merged = expected.merged.path;
  const visible = table.findVisibleMount(merged);
  const stack = table.stackAt(merged);
  const reachable = new Set(stack);
  const hidden = table.entriesAt(merged).filter((e) => !reachable.has(e));
  const containing = table.findMountContaining(merged);
  let overlay: MountinfoEntry | undefined;
  for (let i = stack.length - 1; i >= 0 && overlay === undefined; i--) if (stack[i]!.fsType === 'overlay') overlay = stack[i];
  const at = overlay === undefined ? -1 : stack.indexOf(overlay);
  const base = {
    status: 'read' as const,
    mountinfoFile: input.mountinfoFile,
    expected,
    table,
    parseErrors: input.parsed.errors,
    carriageReturns: input.parsed.carriageReturns,
    visible,
    stack,
    hidden,
    containing,
    overlay,
    above: overlay === undefined ? [] : stack.slice(at + 1),
    below: overlay === undefined ? [] : stack.slice(0, at),
    moduleDefaults: input.moduleDefaults,
  };
  const none = { options: undefined, lowers: [], upper: undefined, work: undefined, mounterCwd: undefined, upperFs: undefined, workFs: undefined };
  if (overlay === undefined) return { ...base, ...none, optionsError: undefined };
  let options: OverlayOptions;
  try {
    options = parseOverlayOptions(overlay.superOptions);
  } catch (error) {
    if (!(error instanceof OverlayOptionsError)) throw error;
    return { ...base, ...none, optionsError: { code: error.code, message: error.message, option: error.option } };
  }
  const layers = options.lowerLayers;
  // A bind mount of a subdirectory of the overlay shows that subdirectory: each layer's counterpart is below it too.
  const subdir = overlay.root;
  const { paths, cwd } = resolveMountedPaths(
    [
      ...layers.map((l) => ({ given: l.path, expected: expected.lowerStoreDir.path, subdir })),
      ...(options.upperdir === undefined ? [] : [{ given: options.upperdir, expected: expected.upperLayer.path, subdir }]),
      ...(options.workdir === undefined ? [] : [{ given: options.workdir }]),
    ],
    input.view,
  );
  const lowers = layers.map((l, i): MountedLayer => ({ ...paths[i]!, position: i + 1, dataOnly: l.dataOnly, option: l.option }));
  const upper = options.upperdir === undefined ? undefined : paths[layers.length];
  const work = options.workdir === undefined ? undefined : paths[paths.length - 1];
  return {
    ...base,
    options,
    optionsError: undefined,
    lowers,
    upper,
    work,
    mounterCwd: cwd,
    upperFs: upper === undefined ? undefined : fsOfPath(table, upper.path),
    workFs: work === undefined ? undefined : fsOfPath(table, work.path),
  };
}

/** The filesystem holding `path` (absolute) according to the table: the visible mount containing it. Undefined for a relative path. Pure. */
export function fsOfPath(table: MountTable, path: string): FsOfPath | undefined {
  if (!path.startsWith('/')) return undefined;
  const entry = table.findMountContaining(path);
  if (entry === undefined) return undefined;
  const readOnly = entry.mountOptions.includes('ro') || entry.superOptions.includes('ro');
  return { mountPoint: entry.mountPoint, device: `${entry.major}:${entry.minor}`, fsType: entry.fsType, readOnly, line: entry.line };
}

/** The facts when the table cannot be read. Pure apart from `view`. */
export function unreadableMountFacts(mountinfoFile: string, layout: StoreLayout, view: RealpathView, error: unknown): UnreadableMountFacts {
  return {
    status: 'unreadable',
    mountinfoFile,
    expected: expectedLayout(layout, view),
    error: { errno: errnoCode(error), message: messageOf(error) },
  };
}

/** Paths resolved in this process's view (realpath(3)); undefined for a path that does not exist or cannot be read. */
export const FS_VIEW: RealpathView = Object.freeze({
  realpath(path: string): string | undefined {
    try {
      return fs.realpathSync.native(path);
    } catch {
      return undefined;
    }
  },
});

/** Where the overlay module keeps its defaults. */
export const OVERLAY_MODULE_PARAMETERS = '/sys/module/overlay/parameters';

/** Reads the overlay module's defaults (Y/N files); undefined fields when a file is absent (module not loaded, old kernel). */
export function readOverlayModuleDefaults(dir = OVERLAY_MODULE_PARAMETERS): OverlayModuleDefaults {
  const flag = (name: string): boolean | undefined => {
    try {
      const value = fs.readFileSync(`${dir}/${name}`, 'utf8').trim();
      return value === 'Y' ? true : value === 'N' ? false : undefined;
    } catch {
      return undefined;
    }
  };
  return { index: flag('index'), metacopy: flag('metacopy'), redirectDir: flag('redirect_dir'), source: dir };
}

/**
 * Gathers the mount facts for `config` once per run: reads `config.mountinfo`, parses it, and derives the facts
 * with paths resolved in this process's view (`view`). A table under /proc is live, so the overlay module's
 * defaults apply to options its lines leave out; a saved table gets none. Never rejects for an unreadable table
 * (the facts say `unreadable`, and the checks report it).
 */
export async function gatherMountFacts(config: Config, view: RealpathView = FS_VIEW): Promise<MountFacts> {
  const file = config.mountinfo;
  let text: string;
  try {
    text = await readMountinfoText(file);
  } catch (error) {
    return unreadableMountFacts(file, config.layout, view, error);
  }
  const moduleDefaults = file.startsWith('/proc/') ? readOverlayModuleDefaults() : undefined;
  return mountFactsFromTable({ mountinfoFile: file, parsed: parseMountinfo(text), layout: config.layout, view, moduleDefaults });
}

/** The evidence every finding about a mount carries: the mountinfo line as the kernel printed it, and where it was. */
export function mountLineEvidence(
  facts: { readonly mountinfoFile: string },
  entry: MountinfoEntry,
): { mountinfo: string; mountinfoFile: string; lineNumber: number } {
  return { mountinfo: entry.line, mountinfoFile: facts.mountinfoFile, lineNumber: entry.lineNumber };
}
