/** Options of the demo store builder: their defaults, resolved once and checked, naming the option and value. */
import path from 'node:path';
import { DemoStoreError } from './demo-store-error.ts';
import type { DemoContents } from './demo-graph.ts';

export interface DemoStoreOptions {
  /** Seed of everything random (names, hash parts, references, contents): an unsigned 32-bit integer. Default 1. */
  readonly seed?: number;
  /** Store objects in the lower store. Default 60. */
  readonly lowerPaths?: number;
  /** Store objects only in the upper layer. Default 20. */
  readonly upperPaths?: number;
  /** Lower paths also copied into the upper layer and registered in the upper DB (dedupe candidates). Default 0. */
  readonly duplicates?: number;
  /** `mixed` (default) or `mostly-files` (95 % single small files: for scale). */
  readonly contents?: DemoContents;
  /** Most references a path gets (besides itself). Default 4. */
  readonly maxReferences?: number;
  /** The logical store dir paths are named under. Default `/nix/store`. */
  readonly storeDir?: string;
  /** Put `?read-only=true` on the lower store in `storeUrl` (Nix then opens the lower DB immutable). Default true. */
  readonly lowerReadOnly?: boolean;
  /** registrationTime of the first path; later ones count up by one. Default 1700000000. */
  readonly registrationTime?: number;
  readonly signal?: AbortSignal;
  /** Called every few thousand paths and at the end of each layer. */
  readonly onProgress?: (progress: DemoStoreProgress) => void;
}

export interface DemoStoreProgress {
  readonly phase: 'lower' | 'upper';
  readonly done: number;
  readonly total: number;
}

/** The options with every default filled in (no signal or callback), frozen. */
export type ResolvedDemoStoreOptions = Readonly<Required<Omit<DemoStoreOptions, 'signal' | 'onProgress'>>>;

/**
 * Fills in defaults and checks every option.
 * @throws DemoStoreError DEMO_STORE_BAD_OPTION (evidence: option, value, expected).
 */
export function resolveDemoStoreOptions(options: DemoStoreOptions): ResolvedDemoStoreOptions {
  const count = (option: keyof DemoStoreOptions, fallback: number, max = 50_000_000): number => {
    const value = options[option] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) throw badOption(option, value, `an integer from 0 to ${max}`);
    return value;
  };
  const resolved: Required<Omit<DemoStoreOptions, 'signal' | 'onProgress'>> = {
    seed: count('seed', 1, 0xffffffff),
    lowerPaths: count('lowerPaths', 60),
    upperPaths: count('upperPaths', 20),
    duplicates: count('duplicates', 0),
    maxReferences: count('maxReferences', 4, 64),
    registrationTime: count('registrationTime', 1_700_000_000, 2 ** 40),
    contents: options.contents ?? 'mixed',
    storeDir: options.storeDir ?? '/nix/store',
    lowerReadOnly: options.lowerReadOnly ?? true,
  };
  if (resolved.duplicates > resolved.lowerPaths) throw badOption('duplicates', resolved.duplicates, `at most lowerPaths (${resolved.lowerPaths})`);
  if (resolved.contents !== 'mixed' && resolved.contents !== 'mostly-files') throw badOption('contents', resolved.contents, "'mixed' or 'mostly-files'");
  if (!/^\/[^\0]*[^/]$/.test(resolved.storeDir) || path.posix.normalize(resolved.storeDir) !== resolved.storeDir) {
    throw badOption('storeDir', resolved.storeDir, 'an absolute, normalised path without a trailing slash');
  }
  return Object.freeze(resolved);
}

function badOption(option: string, value: unknown, expected: string): DemoStoreError {
  return new DemoStoreError('DEMO_STORE_BAD_OPTION', `demo store option ${option} is ${JSON.stringify(value)}, expected ${expected}`, {
    evidence: { option, value, expected },
  });
}
