/** Parses /proc/self/mountinfo into entries, one per line, keeping each raw line as evidence. */
import { MIB, readBounded } from '../trust/index.ts';
import { MountinfoParseError, type MountinfoLineProblem } from './mount-errors.ts';
import { unescapeMountinfo } from './mountinfo-escape.ts';

export { escapeMountinfoPath, escapeMountinfoOptionValue, unescapeMountinfo } from './mountinfo-escape.ts';

/**
 * One line of mountinfo (proc(5)):
 * `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
 * Paths are unescaped; `line` is the line exactly as read. Entries from the parser are immutable objects whose
 * `toJSON()` gives all fields as plain data; hand-made plain objects of this shape work everywhere too.
 */
export interface MountinfoEntry {
  readonly mountId: number;
  /** The mount this one is attached to; equal to `mountId`, or absent from the table, for a namespace's root. */
  readonly parentId: number;
  readonly major: number;
  readonly minor: number;
  /** The directory of the filesystem that is mounted (`/` unless a bind mount of a subdirectory; `net:[…]` for nsfs). */
  readonly root: string;
  /** Where it is mounted, relative to the reading process's root. */
  readonly mountPoint: string;
  /** Per-mount options: `rw`/`ro` first, then `nosuid`, `relatime`… */
  readonly mountOptions: readonly string[];
  /** Propagation tags (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`), possibly none. */
  readonly optionalFields: readonly string[];
  readonly fsType: string;
  /** The mount source (`overlay`, `/dev/vda`, `tmpfs`…); may be empty. */
  readonly source: string;
  /**
   * Superblock options split at the commas the kernel printed, then each unescaped: `rw`/`ro` first, then the
   * filesystem's own options (`lowerdir=…`). Splitting before unescaping keeps `\054` inside a value a comma.
   */
  readonly superOptions: readonly string[];
  /** The super options field as printed, still escaped. */
  readonly superOptionsRaw: string;
  /** 1-based line number in the parsed text. */
  readonly lineNumber: number;
  /** The raw line, without its newline. */
  readonly line: string;
}

export interface MountinfoTable {
  /** The lines that parsed, in table order (the kernel lists mounts in the order they were attached). */
  readonly mounts: readonly MountinfoEntry[];
  /** One error per line that did not parse. */
  readonly errors: readonly MountinfoParseError[];
  /** Lines that ended in a carriage return, and what was done with it; undefined when none did. */
  readonly carriageReturns: TrailingCarriageReturns | undefined;
}

/** Lines of a table that ended in a carriage return (CR, `\r`). */
export interface TrailingCarriageReturns {
  /** How many lines ended in CR. */
  readonly count: number;
  /** The first of them (1-based line numbers), at most QUOTED_CR_LINES. */
  readonly lines: readonly number[];
  /**
   * True when every line ended in CR (the table was saved with Windows line endings): the CRs were removed before
   * parsing. False when only some did: each CR stayed part of its line, as data.
   */
  readonly stripped: boolean;
}

/** At most this many line numbers are kept in TrailingCarriageReturns.lines. */
export const QUOTED_CR_LINES = 5;

const DECIMAL = /^\d{1,15}$/;
const DEVICE = /^\d{1,10}:\d{1,10}$/;

/**
 * Parses mountinfo text. Never throws: each malformed line becomes a `MountinfoParseError` (code
 * `MOUNTINFO_MALFORMED_LINE`, with its line number and text) and the other lines still parse. Only the empty
 * string after a final newline is not a line; an empty line elsewhere is reported as malformed.
 * Fields are split at single spaces, as the kernel writes them (spaces inside fields are escaped).
 *
 * A carriage return ending a line is handled by what the whole table says (`carriageReturns`): when every line
 * ends in one (the last excepted if the text has no final newline), the table was saved with Windows line
 * endings, and each is removed before its line is parsed, so the paths read are the ones mounted. When only some
 * lines do, each stays part of its line's last field: the kernel does not escape a CR, so a layer path printed
 * last can really end in one. Either way the caller can say so (the mount check's `mount.mountinfo-crlf`).
 *
 * Cost: every line is split and validated at once; the fields a mount-table lookup does not need (root, option
 * lists, source) are unescaped and split on first access, so a 10,000-line table parses in a few milliseconds.
 */
export function parseMountinfo(text: string): MountinfoTable {
  const mounts: MountinfoEntry[] = [];
  const errors: MountinfoParseError[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const carriageReturns = trailingCarriageReturns(lines, text.endsWith('\n'));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const result = parseMountinfoLine(carriageReturns?.stripped === true && line.endsWith('\r') ? line.slice(0, -1) : line, i + 1);
    if (result instanceof MountinfoParseError) errors.push(result);
    else mounts.push(result);
  }
  return { mounts, errors, carriageReturns };
}

/** Which lines end in CR, and whether all do (the last may lack one when the text has no final newline). */
function trailingCarriageReturns(lines: readonly string[], finalNewline: boolean): TrailingCarriageReturns | undefined {
  const numbers: number[] = [];
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!(lines[i] as string).endsWith('\r')) continue;
    count++;
    if (numbers.length < QUOTED_CR_LINES) numbers.push(i + 1);
  }
  if (count === 0) return undefined;
  const stripped = count === lines.length || (!finalNewline && count === lines.length - 1 && !(lines.at(-1) as string).endsWith('\r'));
  return { count, lines: numbers, stripped };
}

/** Parses one line (without newline); returns the error instead of throwing it. */
export function parseMountinfoLine(line: string, lineNumber = 1): MountinfoEntry | MountinfoParseError {
  const fail = (problem: MountinfoLineProblem): MountinfoParseError => new MountinfoParseError(lineNumber, line, problem);
  const fields = line.split(' ');
  if (fields.length < 10) return fail('too-few-fields');
  const separator = fields.indexOf('-', 6);
  if (separator < 0) return fail('no-separator');
  if (fields.length - separator - 1 !== 3) return fail('bad-field-count-after-separator');
  if (!DECIMAL.test(fields[0] as string)) return fail('bad-mount-id');
  if (!DECIMAL.test(fields[1] as string)) return fail('bad-parent-id');
  if (!DEVICE.test(fields[2] as string)) return fail('bad-device');
  if (fields[3] === '') return fail('empty-root');
  if (!(fields[4] as string).startsWith('/')) return fail('bad-mount-point');
  if (fields[5] === '') return fail('empty-mount-options');
  if (fields[separator + 1] === '') return fail('empty-fs-type');
  if (fields[separator + 3] === '') return fail('empty-super-options');
  return new ParsedEntry(fields, separator, line, lineNumber);
}

/** A validated line; the fields lookups do not need are decoded on first access. */
class ParsedEntry implements MountinfoEntry {
  readonly mountId: number;
  readonly parentId: number;
  readonly major: number;
  readonly minor: number;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptionsRaw: string;
  readonly lineNumber: number;
  readonly line: string;
  readonly #fields: readonly string[];
  readonly #separator: number;
  #root: string | undefined;
  #mountOptions: readonly string[] | undefined;
  #optionalFields: readonly string[] | undefined;
  #source: string | undefined;
  #superOptions: readonly string[] | undefined;

  constructor(fields: readonly string[], separator: number, line: string, lineNumber: number) {
    const device = fields[2] as string;
    const colon = device.indexOf(':');
    this.mountId = Number(fields[0]);
    this.parentId = Number(fields[1]);
    this.major = Number(device.slice(0, colon));
    this.minor = Number(device.slice(colon + 1));
    this.mountPoint = unescapeMountinfo(fields[4] as string);
    this.fsType = unescapeMountinfo(fields[separator + 1] as string);
    this.superOptionsRaw = fields[separator + 3] as string;
    this.lineNumber = lineNumber;
    this.line = line;
    this.#fields = fields;
    this.#separator = separator;
  }

  get root(): string {
    return (this.#root ??= unescapeMountinfo(this.#fields[3] as string));
  }

  get mountOptions(): readonly string[] {
    return (this.#mountOptions ??= Object.freeze((this.#fields[5] as string).split(',')));
  }

  get optionalFields(): readonly string[] {
    return (this.#optionalFields ??= Object.freeze(this.#fields.slice(6, this.#separator)));
  }

  get source(): string {
    return (this.#source ??= unescapeMountinfo(this.#fields[this.#separator + 2] as string));
  }

  get superOptions(): readonly string[] {
    return (this.#superOptions ??= Object.freeze(this.superOptionsRaw.split(',').map(unescapeMountinfo)));
  }

  /** Plain data with every field, for `--json`, logs and evidence. */
  toJSON(): Record<keyof MountinfoEntry, unknown> {
    return {
      mountId: this.mountId,
      parentId: this.parentId,
      major: this.major,
      minor: this.minor,
      root: this.root,
      mountPoint: this.mountPoint,
      mountOptions: this.mountOptions,
      optionalFields: this.optionalFields,
      fsType: this.fsType,
      source: this.source,
      superOptions: this.superOptions,
      superOptionsRaw: this.superOptionsRaw,
      lineNumber: this.lineNumber,
      line: this.line,
    };
  }
}

/** Whether writes through a mount are refused, and at which level. */
export interface MountAccess {
  /** `ro` in the per-mount options (`mount -o remount,bind,ro`, or `-o ro` at mount time). */
  readonly mountReadOnly: boolean;
  /** `ro` in the super options: the filesystem itself is read-only (an overlay without upperdir, or `-o ro`). */
  readonly superblockReadOnly: boolean;
  /** Either of the two: nothing can be written through this mount. */
  readonly readOnly: boolean;
}

/** Reads the `ro`/`rw` flags of an entry. Pure. */
export function mountAccess(entry: MountinfoEntry): MountAccess {
  const mountReadOnly = entry.mountOptions.includes('ro');
  const superblockReadOnly = entry.superOptions.includes('ro');
  return { mountReadOnly, superblockReadOnly, readOnly: mountReadOnly || superblockReadOnly };
}

/** The most bytes of a mount table read: 10,000 container mounts take 6 MB. */
export const MOUNTINFO_MAX_BYTES = 64 * MIB;

/**
 * The text of a mountinfo file, its type checked first (a regular file, such as the kernel's /proc ones; a FIFO or
 * a device fails at once) and at most MOUNTINFO_MAX_BYTES read. Rejects with TrustError FILE_WRONG_TYPE or
 * FILE_TOO_LARGE, or with the Node system error of a failed open or read (ENOENT, EACCES).
 */
export async function readMountinfoText(file = '/proc/self/mountinfo'): Promise<string> {
  return (await readBounded(file, { what: 'mount table', maxBytes: MOUNTINFO_MAX_BYTES })).toString('utf8');
}

/**
 * Reads and parses a mountinfo file (default: this process's view). Rejects only when the file cannot be
 * read, as readMountinfoText; malformed lines are reported in `errors` as by `parseMountinfo`.
 */
export async function readMountinfo(file = '/proc/self/mountinfo'): Promise<MountinfoTable> {
  return parseMountinfo(await readMountinfoText(file));
}
