/** The errors of the mount model: a malformed mountinfo line, malformed overlay options, a bad path to look up. */
import { WardenError } from '../errors/index.ts';

/** Why a mountinfo line was rejected; each names the field that is wrong. */
export const MOUNTINFO_LINE_PROBLEMS = [
  'too-few-fields',
  'no-separator',
  'bad-field-count-after-separator',
  'bad-mount-id',
  'bad-parent-id',
  'bad-device',
  'empty-root',
  'bad-mount-point',
  'empty-mount-options',
  'empty-fs-type',
  'empty-super-options',
] as const;
export type MountinfoLineProblem = (typeof MOUNTINFO_LINE_PROBLEMS)[number];

const PROBLEM_TEXT: Record<MountinfoLineProblem, string> = {
  'too-few-fields': 'it has fewer than the 10 space-separated fields a mountinfo line needs',
  'no-separator': "it has no '-' field ending the optional fields",
  'bad-field-count-after-separator': "it does not have exactly 3 fields (fs type, source, super options) after '-'",
  'bad-mount-id': 'its mount id (field 1) is not a decimal number',
  'bad-parent-id': 'its parent id (field 2) is not a decimal number',
  'bad-device': "its device (field 3) is not 'major:minor'",
  'empty-root': 'its root (field 4) is empty',
  'bad-mount-point': "its mount point (field 5) does not start with '/'",
  'empty-mount-options': 'its mount options (field 6) are empty',
  'empty-fs-type': 'its fs type is empty',
  'empty-super-options': 'its super options are empty',
};

/** One mountinfo line that cannot be read; the other lines of the table still parse. */
export class MountinfoParseError extends WardenError<'MOUNTINFO_MALFORMED_LINE'> {
  /** 1-based line number in the text given to the parser. */
  readonly lineNumber: number;
  /** The line as it was, without its newline. */
  readonly line: string;
  readonly problem: MountinfoLineProblem;

  constructor(lineNumber: number, line: string, problem: MountinfoLineProblem) {
    super('MOUNTINFO_MALFORMED_LINE', `mountinfo line ${lineNumber} is malformed: ${PROBLEM_TEXT[problem]}`, {
      evidence: { lineNumber, line, problem },
      hint: 'Give the table exactly as the kernel prints it, e.g. `cat /proc/self/mountinfo > FILE`.',
    });
    this.lineNumber = lineNumber;
    this.line = line;
    this.problem = problem;
  }
}

export type OverlayOptionsErrorCode =
  /** `lowerdir=` breaks the kernel's syntax (empty layer, `:::`, trailing `:`, regular after data-only layer…). */
  | 'OVERLAY_LOWERDIR_MALFORMED'
  /** `lowerdir=` together with `lowerdir+=`/`datadir+=`, or `datadir+=` before `lowerdir+=`. */
  | 'OVERLAY_LOWER_LAYERS_MIXED'
  /** No regular lower layer (none at all, or only data-only ones). */
  | 'OVERLAY_LOWER_MISSING'
  /** A known option with a value the kernel does not accept or print (`index=maybe`, `volatile=1`, `upperdir`). */
  | 'OVERLAY_OPTION_BAD_VALUE'
  /** A single-valued option given twice. */
  | 'OVERLAY_OPTION_DUPLICATE';

/** Overlay super options that the kernel could not have printed; `option` is the offending option as given. */
export class OverlayOptionsError extends WardenError<OverlayOptionsErrorCode> {
  readonly option: string;

  constructor(code: OverlayOptionsErrorCode, message: string, option: string, evidence: Record<string, unknown> = {}) {
    super(code, message, {
      evidence: { option, ...evidence },
      hint: 'Pass the super options field of an overlay mountinfo line as the kernel printed it.',
    });
    this.option = option;
  }
}

/** A path given to a mount-table lookup that is not absolute. */
export class MountPathError extends WardenError<'MOUNT_PATH_NOT_ABSOLUTE'> {
  readonly path: string;

  constructor(path: string) {
    super('MOUNT_PATH_NOT_ABSOLUTE', `cannot look up mounts at '${path}': the path is not absolute`, {
      evidence: { path },
      hint: "Resolve the path first (realpath against the mounter's working directory).",
    });
    this.path = path;
  }
}
