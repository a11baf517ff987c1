/** The files of one demo store object (plan, pure) and writing them to a layer. */
import fs from 'node:fs';
import path from 'node:path';
import { createRandom, type Random } from './seeded-random.ts';
import type { ObjectKind } from './demo-graph.ts';

/** One file system entry of a store object, `rel` relative to the object's root ('' is the root itself). */
export type ObjectEntry =
  | { readonly type: 'file'; readonly rel: string; readonly data: string | Uint8Array; readonly executable: boolean }
  | { readonly type: 'directory'; readonly rel: string }
  | { readonly type: 'symlink'; readonly rel: string; readonly target: string };

/** What an object's contents depend on: all of it deterministic. */
export interface ObjectSpec {
  readonly kind: ObjectKind;
  /** Seeds of the content stream (seed, layer code, index): the same object gets the same bytes in both layers. */
  readonly seeds: readonly number[];
  /** The object's logical store path (`/nix/store/<hash>-<name>`). */
  readonly storePath: string;
  /** Logical store paths it references (written into its contents, as Nix's reference scanner would find them). */
  readonly references: readonly string[];
  /** It references itself: its own path appears in its contents. */
  readonly selfReference: boolean;
}

/** A tree object gets a 256 KiB file once in this many, so NAR hashing sees more than tiny files. */
const LARGE_FILE_EVERY = 128;
const LARGE_FILE_BYTES = 256 * 1024;

/** Deterministic filler text, sliced by offset: cheap bytes that are not all alike. */
const FILLER = (() => {
  const random = createRandom(0x5eed);
  const words = ['lorem', 'store', 'overlay', 'nix', 'closure', 'derivation', 'output', 'lower', 'upper', 'layer', 'hash', 'path'];
  let text = '';
  while (text.length < 8192) text += `${random.pick(words)}${random.chance(0.15) ? '\n' : ' '}`;
  return text;
})();

function filler(random: Random, maxBytes: number): string {
  const length = random.int(maxBytes + 1);
  const start = random.int(FILLER.length - length);
  return FILLER.slice(start, start + length);
}

/** Reference lines, as tools leave store paths in their outputs (rpaths, shebangs, propagated inputs). */
function mentions(spec: ObjectSpec, prefix = ''): string {
  const all = spec.selfReference ? [...spec.references, spec.storePath] : spec.references;
  return all.map((reference) => `${prefix}${reference}\n`).join('');
}

/**
 * The entries of the object described by `spec`, parents before children. Symlinks are relative and stay inside
 * the object; every kind NAR distinguishes appears: regular, executable, empty file, empty dir, nested dirs, symlinks.
 */
export function planObject(spec: ObjectSpec): ObjectEntry[] {
  const random = createRandom(...spec.seeds, 7);
  const name = path.posix.basename(spec.storePath).slice(33);
  switch (spec.kind) {
    case 'file':
      return [{ type: 'file', rel: '', data: `${name}\n${mentions(spec)}${filler(random, 160)}`, executable: false }];
    case 'executable':
      return [{ type: 'file', rel: '', data: `#!/bin/sh\n# ${name}\n${mentions(spec, '# ')}echo ${name}\n`, executable: true }];
    case 'empty-file':
      return [{ type: 'file', rel: '', data: '', executable: false }];
    case 'empty-dir':
      return [{ type: 'directory', rel: '' }];
    case 'tree':
      return planTree(spec, random, name);
  }
}

function planTree(spec: ObjectSpec, random: Random, name: string): ObjectEntry[] {
  const program = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '') || 'program';
  const entries: ObjectEntry[] = [
    { type: 'directory', rel: '' },
    { type: 'directory', rel: 'bin' },
    { type: 'file', rel: `bin/${program}`, data: `#!/bin/sh\n${mentions(spec, '# ')}exec true "$@"\n`, executable: true },
    { type: 'symlink', rel: `bin/${program}-alias`, target: program },
    { type: 'directory', rel: 'lib' },
    { type: 'file', rel: `lib/lib${program}.so.1`, data: `ELF?${filler(random, 2000)}${mentions(spec)}`, executable: false },
    { type: 'symlink', rel: `lib/lib${program}.so`, target: `lib${program}.so.1` },
    { type: 'directory', rel: 'share' },
    { type: 'directory', rel: 'share/doc' },
    { type: 'directory', rel: `share/doc/${program}` },
    { type: 'file', rel: `share/doc/${program}/README`, data: `${name}\n${filler(random, 600)}`, executable: false },
    { type: 'file', rel: `share/doc/${program}/EMPTY`, data: '', executable: false },
    { type: 'directory', rel: `share/${program}` },
    { type: 'directory', rel: `share/${program}/data` },
    { type: 'directory', rel: `share/${program}/data/nested` },
    { type: 'file', rel: `share/${program}/data/nested/values.txt`, data: filler(random, 400), executable: false },
    { type: 'symlink', rel: `share/${program}/doc`, target: `../doc/${program}` },
    { type: 'directory', rel: 'nix-support' },
    { type: 'file', rel: 'nix-support/propagated-build-inputs', data: spec.references.join(' '), executable: false },
  ];
  if (random.chance(0.3)) entries.push({ type: 'directory', rel: 'etc' });
  if (random.int(LARGE_FILE_EVERY) === 0) {
    const big = Buffer.alloc(LARGE_FILE_BYTES);
    for (let offset = 0; offset < big.length; offset += FILLER.length) big.write(FILLER, offset, 'latin1');
    big.write(name, random.int(LARGE_FILE_BYTES - name.length), 'latin1');
    entries.push({ type: 'file', rel: `lib/lib${program}-data.bin`, data: big, executable: false });
  }
  return entries;
}

/**
 * Writes `entries` at `objectPath` (which must not exist). Files get Nix's modes (0444, 0555 for executables);
 * directories stay 0755 so that a demo or test can delete them without chmod.
 */
export function writeObject(objectPath: string, entries: readonly ObjectEntry[]): void {
  for (const entry of entries) {
    const target = entry.rel === '' ? objectPath : `${objectPath}/${entry.rel}`;
    switch (entry.type) {
      case 'directory':
        fs.mkdirSync(target, { mode: 0o755 });
        break;
      case 'file':
        fs.writeFileSync(target, entry.data, { mode: entry.executable ? 0o555 : 0o444, flag: 'wx' });
        break;
      case 'symlink':
        fs.symlinkSync(entry.target, target);
        break;
    }
  }
}
