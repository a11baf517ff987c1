/** Emulates Nix's own `check-mount` (LocalOverlayStore's constructor): a regex over /proc/self/mounts, and its verdict. */
import { messageOf } from '../errors/index.ts';
import { escapeMountinfoPath } from './mountinfo-escape.ts';
import type { MountinfoEntry } from './mountinfo.ts';

/** The three paths Nix's check reads from the store config, exactly as Nix holds them (canonical, unresolved). */
export interface NixCheckMountInput {
  /** The overlay store's `realStoreDir` (`real`, or ROOT/nix/store): `StoreLayout.mergedStoreDir`. */
  readonly realStoreDir: string;
  /** The lower store's `realStoreDir`: `StoreLayout.lower.realStoreDir`. */
  readonly lowerRealStoreDir: string;
  /** `upper-layer`: `StoreLayout.upperLayer`. */
  readonly upperLayer: string;
}

/** What Nix would decide. Nix itself only says "overlay filesystem '…' mounted incorrectly"; the flags say why. */
export interface NixCheckMountVerdict {
  /** True when Nix opens the store; false when it throws. */
  readonly accepted: boolean;
  /** Nix's error message when it refuses (its own text, or the regex error it would throw). */
  readonly message: string | undefined;
  /** The last line matching `overlay REALSTOREDIR …` (what Nix calls the mount info), without its newline; undefined when none matched. */
  readonly matchedLine: string | undefined;
  /** Whether `lowerdir=LOWER` followed by a space or comma was found in that line. */
  readonly lowerdirMatched: boolean;
  /** Whether `upperdir=UPPER` followed by a space or comma was found in that line. */
  readonly upperdirMatched: boolean;
  /** Set when a path made a pattern that does not compile (Nix throws a std::regex_error, not its own message). */
  readonly regexError: string | undefined;
}

/** sync, dirsync, mand and lazytime: the superblock flags /proc/self/mounts prints before the per-mount flags. */
const SUPERBLOCK_FLAGS = new Set(['sync', 'dirsync', 'mand', 'lazytime']);

/**
 * The line /proc/self/mounts shows for a mountinfo entry (the kernel's show_vfsmnt): source, mount point, fs type,
 * options, `0 0`. Options are `ro` when the mount or the superblock is read-only (else `rw`), then the superblock
 * flags (`sync`, `dirsync`, `mand`, `lazytime`), then the per-mount flags (`nosuid`, `relatime`…), then the
 * filesystem's own options (for overlay: `lowerdir=…,upperdir=…`), escaped as in mountinfo. Pure.
 */
export function procMountsLine(entry: MountinfoEntry): string {
  const [, ...mountFlags] = entry.mountOptions;
  // The super options as printed (still escaped), so `\054` inside a value stays as the kernel wrote it.
  const [superAccess, ...rest] = entry.superOptionsRaw.split(',');
  let flagsEnd = 0;
  while (flagsEnd < rest.length && SUPERBLOCK_FLAGS.has(rest[flagsEnd] as string)) flagsEnd++;
  const readOnly = entry.mountOptions[0] === 'ro' || superAccess === 'ro';
  const options = [readOnly ? 'ro' : 'rw', ...rest.slice(0, flagsEnd), ...mountFlags, ...rest.slice(flagsEnd)];
  return `${escapeMountinfoPath(entry.source)} ${escapeMountinfoPath(entry.mountPoint)} ${escapeMountinfoPath(entry.fsType)} ${options.join(',')} 0 0`;
}

/** /proc/self/mounts text for a whole table, in table order (the kernel lists both files in the same order). Pure. */
export function procMountsText(entries: readonly MountinfoEntry[]): string {
  let text = '';
  for (const entry of entries) text += `${procMountsLine(entry)}\n`;
  return text;
}

/**
 * Nix's check-mount (src/libstore/local-overlay-store.cc), run on `procMounts` (the text of /proc/self/mounts):
 *
 * 1. search `(^|\n)overlay REALSTOREDIR .*(\n|$)` repeatedly, each time in what follows the previous match, and keep
 *    the last match (its first word is the mount *source*, not the fs type);
 * 2. in that text, search `\blowerdir=LOWER( |,)` and `\bupperdir=UPPER( |,)`; both must be found.
 *
 * The paths are pasted into the patterns unescaped, as Nix does, so `.` matches any character, `+` or `(` may
 * not compile, and a path with a space never matches the kernel's `\040`. Differences from Nix: the patterns run
 * on JavaScript's RegExp (ECMAScript, as std::regex's default grammar; Annex B accepts a few patterns libstdc++
 * rejects, such as a lone `{`, and a `\N` beyond the group count is an octal escape here but an error there), and
 * on UTF-16 units rather than bytes (only differs for non-ASCII paths under quantifiers). Pure; never throws.
 */
export function nixCheckMount(procMounts: string, input: NixCheckMountInput): NixCheckMountVerdict {
  let lineRegex: RegExp;
  try {
    lineRegex = new RegExp(`(^|\\n)overlay ${input.realStoreDir} .*(\\n|$)`);
  } catch (error) {
    return refused(undefined, false, false, regexMessage(error));
  }
  let mountInfo = '';
  let rest = procMounts;
  for (;;) {
    const match = lineRegex.exec(rest);
    if (match === null) break;
    mountInfo = match[0];
    // Every match holds "overlay ", so the search always advances; Nix continues in `match.suffix()` the same way.
    rest = rest.slice(match.index + match[0].length);
  }
  const matchedLine = mountInfo === '' ? undefined : mountInfo.replace(/^\n/, '').replace(/\n$/, '');
  let lowerdirMatched: boolean;
  let upperdirMatched: boolean;
  try {
    lowerdirMatched = optionRegex('lowerdir', input.lowerRealStoreDir).test(mountInfo);
    upperdirMatched = optionRegex('upperdir', input.upperLayer).test(mountInfo);
  } catch (error) {
    return refused(matchedLine, false, false, regexMessage(error));
  }
  if (lowerdirMatched && upperdirMatched) {
    return { accepted: true, message: undefined, matchedLine, lowerdirMatched, upperdirMatched, regexError: undefined };
  }
  return refused(matchedLine, lowerdirMatched, upperdirMatched, undefined, `overlay filesystem '${input.realStoreDir}' mounted incorrectly`);
}

/** Characters that make a path a pattern other than itself (or let it match across a space or a line break). */
const NOT_LITERAL = /[.*+?^${}()|[\]\\\s]/;
/** Characters that let a pattern match a line break (a class, an escape such as `\s`, a newline itself). */
const MAY_CROSS_LINES = /[[\\\n]/;

/**
 * Nix's verdict on one mountinfo table, as /proc/self/mounts of the same namespace would show it: the same as
 * `nixCheckMount(procMountsText(entries), input)`, without building the whole text when that cannot change the
 * verdict. A match starts at the start of a line with `overlay ` (the source field, escaped, is `overlay`), and
 * when the store dir cannot match a line break it stays on that line, so only those lines are searched; when the
 * store dir is also a plain literal without spaces, a line matches exactly when its mount point field is the
 * store dir. Pure.
 */
export function nixCheckMountOnTable(entries: readonly MountinfoEntry[], input: NixCheckMountInput): NixCheckMountVerdict {
  const dir = input.realStoreDir;
  if (MAY_CROSS_LINES.test(dir)) return nixCheckMount(procMountsText(entries), input);
  if (NOT_LITERAL.test(dir)) return nixCheckMount(procMountsText(entries.filter((e) => e.source === 'overlay')), input);
  const last = entries.findLast((e) => e.source === 'overlay' && escapeMountinfoPath(e.mountPoint) === dir);
  return nixCheckMount(last === undefined ? '' : `${procMountsLine(last)}\n`, input);
}

function optionRegex(option: string, value: string): RegExp {
  return new RegExp(`\\b${option}=${value}( |,)`);
}

function regexMessage(error: unknown): string {
  return `std::regex_error (a path is not a valid regular expression: ${messageOf(error)})`;
}

function refused(
  matchedLine: string | undefined,
  lowerdirMatched: boolean,
  upperdirMatched: boolean,
  regexError: string | undefined,
  message?: string,
): NixCheckMountVerdict {
  return { accepted: false, message: message ?? regexError, matchedLine, lowerdirMatched, upperdirMatched, regexError };
}
