/** Reads nix.conf the way Nix does (comments, `include`/`!include`, later lines win) to find the `store` setting and where it was set. */
import { posix } from 'node:path';
import { WardenError, errnoCode, messageOf } from '../errors/index.ts';
import { MIB, TrustError, readTrustedFile } from '../trust/index.ts';

/**
 * Nix's own refusals (SYNTAX, INCLUDE_MISSING), and overlay-warden's: the top file unreadable, include cycles and
 * chains too deep, a file someone else could have written or reached through a directory they can write
 * (UNTRUSTED), one that is not a regular file (NOT_A_FILE: a FIFO, a device), more bytes than the caps (TOO_LARGE).
 */
export type NixConfErrorCode =
  | 'NIX_CONF_SYNTAX'
  | 'NIX_CONF_UNREADABLE'
  | 'NIX_CONF_INCLUDE_MISSING'
  | 'NIX_CONF_INCLUDE_CYCLE'
  | 'NIX_CONF_INCLUDE_TOO_DEEP'
  | 'NIX_CONF_UNTRUSTED'
  | 'NIX_CONF_NOT_A_FILE'
  | 'NIX_CONF_TOO_LARGE';

/** A nix.conf Nix itself would refuse, or one overlay-warden cannot follow; `evidence` has `file` and `line`. */
export class NixConfError extends WardenError<NixConfErrorCode> {}

/** A place in a nix.conf. */
export interface NixConfLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
}

/** One meaningful line of a nix.conf. */
export type NixConfEntry =
  | (NixConfLocation & { readonly kind: 'setting'; readonly name: string; readonly value: string })
  /** `include PATH` (`optional: false`) or `!include PATH`; `path` is resolved against the including file's directory. */
  | (NixConfLocation & { readonly kind: 'include'; readonly path: string; readonly optional: boolean });

/** A setting as Nix applies it, with the chain of `include` lines that led to its file (outermost first). */
export interface NixConfSetting extends NixConfLocation {
  readonly name: string;
  readonly value: string;
  readonly includedFrom: readonly NixConfLocation[];
}

/** An include Nix passes over silently: a missing `!include`, or any include whose file exists but cannot be read. */
export interface SkippedInclude extends NixConfLocation {
  readonly path: string;
  readonly reason: 'missing' | 'unreadable';
  /** The errno code of the failed read (ENOENT, EACCES, EISDIR…). */
  readonly errno: string | undefined;
}

/** Every setting of a nix.conf and its includes, in the order Nix applies them. */
export interface NixConf {
  readonly settings: readonly NixConfSetting[];
  readonly skippedIncludes: readonly SkippedInclude[];
}

/**
 * Reads a file as UTF-8 text; throws a Node system error (with `code`) when it cannot, or a TrustError when it must
 * not be read (untrusted, not a regular file, too large).
 */
export type ReadTextFile = (file: string) => string;

/** Deepest include nesting followed; beyond it Nix (which has no cycle check) would recurse until it crashes. */
export const MAX_INCLUDE_DEPTH = 32;

/** The most bytes read of one nix.conf or included file (Nix's own is a few KiB). */
export const NIX_CONF_MAX_BYTES = MIB;
/** The most bytes read of a nix.conf and all it includes, a file included twice counted twice. */
export const NIX_CONF_MAX_TOTAL_BYTES = 8 * MIB;

/**
 * The default reader: through the trust checks (root's or the agent's user's, through trusted directories, read
 * from the checked descriptor), at most NIX_CONF_MAX_BYTES. nix.conf names the store whose layers the agent
 * remounts as root, so a nix.conf others could change would hand them that choice.
 */
export const readTrustedNixConf: ReadTextFile = (file) => readTrustedFile(file, { what: 'nix.conf', maxBytes: NIX_CONF_MAX_BYTES }).bytes.toString('utf8');

// Nix's tokenizeString default separators, minus the newline that already split lines.
const SEPARATORS = /[ \t\r]+/;

/**
 * Parses one nix.conf's text, as Nix's config parser (src/libutil/configuration.cc)
 * does: lines end at `\n` only; `#` starts a comment anywhere (so no value can
 * contain `#`); a line is split into words at spaces, tabs and CRs; a setting
 * is `name = value…` with `=` a word of its own, and its value is the
 * remaining words joined by single spaces (`store=x` and `store =x` are syntax
 * errors); `include PATH` / `!include PATH` take exactly one word. There is no
 * line continuation: a trailing backslash stays in the value, and the next
 * line stands alone (checked against Nix 2.8 and master). `extra-store` is not
 * a way to set `store` (Nix warns "unknown setting"); it is returned as an
 * ordinary setting named `extra-store`.
 *
 * Pure: include paths are resolved lexically against `file`'s directory.
 * Throws NixConfError NIX_CONF_SYNTAX with the file, line and text.
 */
export function parseNixConf(text: string, file: string): NixConfEntry[] {
  const entries: NixConfEntry[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    const hash = raw.indexOf('#');
    const tokens = (hash < 0 ? raw : raw.slice(0, hash)).split(SEPARATORS).filter((t) => t !== '');
    if (tokens.length === 0) return;
    const [first = '', second = ''] = tokens;
    const syntax = (why: string): never => {
      throw new NixConfError('NIX_CONF_SYNTAX', `${file}:${line}: syntax error in '${raw}': ${why}`, {
        evidence: { file, line, text: raw, expected: "'name = value', 'include FILE' or '!include FILE'" },
        hint: 'Nix refuses this file too; fix the line (note that nix.conf has no line continuation)',
      });
    };
    if (tokens.length < 2) syntax("expected 'name = value'");
    if (first === 'include' || first === '!include') {
      if (tokens.length !== 2) syntax(`'${first}' takes exactly one file name`);
      const path = posix.isAbsolute(second) ? posix.normalize(second) : posix.join(posix.dirname(file), second);
      entries.push({ kind: 'include', path, optional: first === '!include', file, line });
      return;
    }
    if (second !== '=') syntax("expected 'name = value' with spaces around '='");
    entries.push({ kind: 'setting', name: first, value: tokens.slice(2).join(' '), file, line });
  });
  return entries;
}

/**
 * Reads `file` and everything it includes, in Nix's order. Like Nix: an
 * include path is relative to the including file; a missing `include` file is
 * an error (NIX_CONF_INCLUDE_MISSING), a missing `!include` file is skipped,
 * and an include whose file exists but cannot be read is skipped too (both
 * reported in `skippedIncludes`). Unlike Nix: `file` itself must be readable
 * (NIX_CONF_UNREADABLE; Nix treats a missing nix.conf as empty), and include
 * cycles (NIX_CONF_INCLUDE_CYCLE) and nesting deeper than MAX_INCLUDE_DEPTH
 * (NIX_CONF_INCLUDE_TOO_DEEP) are errors where Nix would recurse forever; so
 * are, for the top file and every include, one that is not trusted
 * (NIX_CONF_UNTRUSTED), not a regular file (NIX_CONF_NOT_A_FILE: Nix would
 * block on a FIFO or read /dev/zero until memory runs out; a directory is
 * skipped, as by Nix) or over the caps (NIX_CONF_TOO_LARGE). Also throws
 * NIX_CONF_SYNTAX. `readFile` defaults to readTrustedNixConf.
 */
export function readNixConf(file: string, readFile: ReadTextFile = readTrustedNixConf): NixConf {
  const settings: NixConfSetting[] = [];
  const skippedIncludes: SkippedInclude[] = [];
  const top = posix.resolve(file);
  let total = 0;
  /** Reads one file, counting its bytes against NIX_CONF_MAX_TOTAL_BYTES; TrustErrors become NixConfErrors at `from`. */
  const read = (path: string, from: NixConfLocation | undefined): string => {
    let text: string;
    try {
      text = readFile(path);
    } catch (cause) {
      if (cause instanceof TrustError) throw refused(path, from, cause);
      throw cause;
    }
    total += text.length;
    if (total > NIX_CONF_MAX_TOTAL_BYTES) {
      throw refused(
        path,
        from,
        new TrustError('FILE_TOO_LARGE', `nix.conf ${top} and its includes hold more than ${NIX_CONF_MAX_TOTAL_BYTES} bytes`, {
          evidence: { file: top, maxBytes: NIX_CONF_MAX_TOTAL_BYTES },
          hint: 'include fewer or smaller files',
        }),
      );
    }
    return text;
  };
  let text: string;
  try {
    text = read(top, undefined);
  } catch (cause) {
    if (cause instanceof NixConfError) throw cause;
    throw new NixConfError('NIX_CONF_UNREADABLE', `cannot read nix.conf ${top}: ${messageOf(cause)}`, {
      cause,
      evidence: { file: top, errno: errnoCode(cause) },
      hint: 'point overlay-warden at an existing, readable nix.conf',
    });
  }
  const visit = (current: string, contents: string, chain: readonly NixConfLocation[]): void => {
    for (const entry of parseNixConf(contents, current)) {
      if (entry.kind === 'setting') {
        settings.push({ name: entry.name, value: entry.value, file: entry.file, line: entry.line, includedFrom: chain });
        continue;
      }
      const here: NixConfLocation = { file: entry.file, line: entry.line };
      const files = [...chain.map((l) => l.file), current];
      if (files.includes(entry.path)) {
        const cycle = [...files.slice(files.indexOf(entry.path)), entry.path];
        throw new NixConfError('NIX_CONF_INCLUDE_CYCLE', `${entry.file}:${entry.line}: including ${entry.path} again makes a cycle: ${cycle.join(' → ')}`, {
          evidence: { file: entry.file, line: entry.line, path: entry.path, cycle },
          hint: 'remove one of the include lines in the cycle (Nix would recurse until it crashes)',
        });
      }
      if (chain.length + 1 > MAX_INCLUDE_DEPTH) {
        throw new NixConfError(
          'NIX_CONF_INCLUDE_TOO_DEEP',
          `${entry.file}:${entry.line}: includes nested more than ${MAX_INCLUDE_DEPTH} deep (a cycle through symlinks?)`,
          {
            evidence: { file: entry.file, line: entry.line, path: entry.path, depth: chain.length + 1 },
            hint: 'flatten the include chain',
          },
        );
      }
      let included: string;
      try {
        included = read(entry.path, here);
      } catch (cause) {
        if (cause instanceof NixConfError) throw cause;
        const errno = errnoCode(cause);
        const missing = errno === 'ENOENT' || errno === 'ENOTDIR';
        if (missing && !entry.optional) {
          throw new NixConfError('NIX_CONF_INCLUDE_MISSING', `${entry.file}:${entry.line}: included file ${entry.path} not found`, {
            cause,
            evidence: { file: entry.file, line: entry.line, path: entry.path, errno },
            hint: `create ${entry.path}, or write '!include' to make it optional`,
          });
        }
        skippedIncludes.push({ ...here, path: entry.path, reason: missing ? 'missing' : 'unreadable', errno });
        continue;
      }
      visit(entry.path, included, [...chain, here]);
    }
  };
  visit(top, text, []);
  return Object.freeze({ settings: Object.freeze(settings), skippedIncludes: Object.freeze(skippedIncludes) });
}

/** The NixConfError for a file the trust checks or the caps refused; `from` is the include line that named it. */
function refused(path: string, from: NixConfLocation | undefined, cause: TrustError): NixConfError {
  const code = cause.code === 'FILE_UNTRUSTED' ? 'NIX_CONF_UNTRUSTED' : cause.code === 'FILE_WRONG_TYPE' ? 'NIX_CONF_NOT_A_FILE' : 'NIX_CONF_TOO_LARGE';
  const at = from === undefined ? '' : `${from.file}:${from.line}: `;
  return new NixConfError(code, `${at}${cause.message}`, {
    cause,
    evidence: { ...cause.evidence, path, ...(from === undefined ? { file: path } : { file: from.file, line: from.line }) },
    hint: cause.hint,
  });
}

/** The setting `name` as Nix ends up with it: the last one applied, or undefined. Pure. */
export function lastNixConfSetting(conf: NixConf, name: string): NixConfSetting | undefined {
  return conf.settings.findLast((s) => s.name === name);
}

/**
 * The `store = …` setting of `file` (includes followed), with the file and
 * line it came from, or undefined when none sets it. The value is as Nix reads
 * it (words joined by single spaces; `` means auto); parse it with
 * parseStoreUrl. Ignores what Nix adds on top of nix.conf (NIX_REMOTE as the
 * default, NIX_CONFIG, user config files, --store). Throws what readNixConf throws.
 */
export function readNixConfStoreSetting(file: string, readFile?: ReadTextFile): NixConfSetting | undefined {
  return lastNixConfSetting(readNixConf(file, readFile), 'store');
}
