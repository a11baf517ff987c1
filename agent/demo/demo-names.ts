/** Store path names for the demo store: deterministic hash parts and realistic package names, all valid for Nix. */
import { createHash } from 'node:crypto';
import { encodeNixBase32 } from '../store/index.ts';
import type { Random } from './seeded-random.ts';

/** Which namespace a demo path's hash part is drawn from. */
export type DemoHashTag = 'lower' | 'upper' | 'drv';

/**
 * 32 Nix base-32 chars from SHA-256 of (seed, tag, index), truncated to 20 bytes as Nix truncates its path hashes.
 * Not the hash Nix would compute for the contents: nothing in Nix checks that for an input-addressed path.
 */
export function demoHashPart(seed: number, tag: DemoHashTag, index: number): string {
  const digest = createHash('sha256').update(`overlay-warden-demo/${seed}/${tag}/${index}`).digest();
  return encodeNixBase32(digest.subarray(0, 20));
}

/** Package names as found in nixpkgs, chosen to cover every char class Nix allows in names (+ - . _ and digits). */
const PACKAGE_NAMES = [
  'glibc',
  'zlib',
  'openssl',
  'bash',
  'coreutils',
  'gcc-lib',
  'libffi',
  'ncurses',
  'readline',
  'sqlite',
  'curl',
  'gtk+3',
  'xz',
  'bzip2',
  'expat',
  'libxml2',
  'icu4c',
  'perl',
  'python3.11',
  'libstdc++',
  'hello',
  'git',
  'nodejs',
  'jq',
  'ripgrep',
  'fontconfig',
  'freetype',
  'harfbuzz',
  'pcre2',
  'util-linux',
  'systemd-minimal',
  'dbus',
  'libpng',
  'libjpeg-turbo',
  'mesa',
  'llvm',
  'rustc',
  'go',
  'python3.11-requests',
  'python3.11-six_extras',
] as const;

/** Output suffixes (`-dev`, `-man`…), empty for the default output. */
const OUTPUT_SUFFIXES = ['', '', '', '', '-dev', '-lib', '-man', '-doc', '-bin'] as const;

/** A realistic name such as `openssl-3.4.7-dev`, varied by `random` and `index`. */
export function demoPackageName(random: Random, index: number): string {
  const version = `${1 + (index % 7)}.${random.int(30)}${random.chance(0.5) ? `.${random.int(12)}` : ''}`;
  return `${random.pick(PACKAGE_NAMES)}-${version}${random.pick(OUTPUT_SUFFIXES)}`;
}

/** The `.drv` path a demo path claims as deriver (never registered, like paths substituted from a cache). */
export function demoDeriverPath(storeDir: string, seed: number, index: number, name: string): string {
  return `${storeDir}/${demoHashPart(seed, 'drv', index)}-${name}.drv`;
}
