/** The syntax of a `lowerdir=` value: splitting it into layers as the kernel does, and writing one. Pure. */
import { OverlayOptionsError } from './mount-errors.ts';

/** One lower layer, top first in `lowerLayers`. */
export interface OverlayLowerLayer {
  /** The path as the mounter gave it, unescaped; relative paths stay relative (to the mounter's cwd). */
  readonly path: string;
  /** A data-only layer (`::` in `lowerdir=`, or `datadir+=`): only reachable through metacopy redirects. */
  readonly dataOnly: boolean;
  /** Which option named it. */
  readonly option: 'lowerdir' | 'lowerdir+' | 'datadir+';
}

/**
 * Removes the mounter's backslash escapes as the kernel's `ovl_unescape` does: `\x` → `x`, and a lone final
 * `\` is dropped (the kernel mounts `/u\` as `/u` and still prints `/u\134`).
 */
export function dropBackslashEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') i++;
    if (i < text.length) out += text[i];
  }
  return out;
}

/**
 * Splits a `lowerdir=` value as the kernel does (ovl_parse_param_split_lowerdirs): `:` separates layers, `::`
 * makes the following layers data-only, a backslash escapes the next character (a final lone one is kept for
 * `dropBackslashEscapes`, which drops it, as the kernel does); then unescapes each layer.
 */
export function splitLowerdir(value: string, option: string): OverlayLowerLayer[] {
  const malformed = (why: string): OverlayOptionsError =>
    new OverlayOptionsError('OVERLAY_LOWERDIR_MALFORMED', `'lowerdir=' is malformed: ${why}`, option, { lowerdir: value });
  if (value === '') throw malformed('it is empty');
  if (value.startsWith(':')) throw malformed("it starts with ':'");
  const layers: OverlayLowerLayer[] = [];
  let raw = '';
  let dataOnly = false;
  let nextDataOnly = false;
  const finish = (): void => {
    const path = dropBackslashEscapes(raw);
    if (path === '') throw malformed('a layer is empty');
    layers.push({ path, dataOnly: nextDataOnly, option: 'lowerdir' });
    dataOnly = nextDataOnly;
    raw = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      raw += c + (value[i + 1] ?? '');
      i++;
    } else if (c === ':') {
      finish();
      let colons = 1;
      while (value[i + 1] === ':') {
        colons++;
        i++;
      }
      if (colons > 2) throw malformed("it holds ':::' (only ':' and '::' separate layers)");
      if (i + 1 >= value.length) throw malformed("it ends in ':'");
      if (colons === 1 && dataOnly) throw malformed('a regular layer follows a data-only layer');
      nextDataOnly = colons === 2;
    } else {
      raw += c;
    }
  }
  finish();
  return layers;
}

/**
 * Formats lower layers as a `lowerdir=` value a mounter would write (escaping `\`, `:` and `,` with a
 * backslash; `::` before each data-only layer). The inverse of `splitLowerdir`, for fixtures,
 * property tests and building mount options. Expects what the kernel accepts: at least one layer, the first
 * regular, no regular layer after a data-only one, no empty path.
 */
export function formatLowerdir(layers: readonly Pick<OverlayLowerLayer, 'path' | 'dataOnly'>[]): string {
  return layers.map((l, i) => (i === 0 ? '' : l.dataOnly ? '::' : ':') + escapeOverlayPath(l.path)).join('');
}

/** Escapes one layer path for an overlay option value: `\\`, `:` and `,` are special to OverlayFS's option parser. Pure. */
export function escapeOverlayPath(path: string): string {
  return path.replace(/[\\:,]/g, (c) => `\\${c}`);
}
