/**
 * The mishaps the demo's tour needs, made through the merged view the way a user (or a careless script) would:
 * deleting a lower-only store path there leaves a whiteout in the upper layer (the path is masked), and appending to
 * a lower-only path's file there copies it up (a tampered upper copy). Nothing touches the lower store itself.
 */
import { appendFileSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { DemoStoreError } from './demo-store-error.ts';
import type { DemoStore } from './store-builder.ts';

/** The store paths (logical) the mishaps hit. */
export interface DemoMishaps {
  /** Deleted through the merged dir: the upper layer now holds a whiteout over the lower copy. */
  readonly masked: string;
  /** A file of it was appended to through the merged dir: the upper layer holds a copy whose NAR hash is wrong. */
  readonly tampered: string;
  /** The file of `tampered` that was changed, relative to its store path ('' when the path itself is the file). */
  readonly tamperedFile: string;
}

type MishapStore = Pick<DemoStore, 'lower' | 'upper' | 'mergedStoreDir'>;

/**
 * The lower paths a mishap may hit, in order (pure): registered only in the lower DB (no upper copy, not in any upper
 * closure), lower roots first, so that masking one breaks no other lower path's closure.
 */
export function mishapCandidates(store: Pick<DemoStore, 'lower' | 'upper'>): string[] {
  const upperKnows = new Set([...store.upper.duplicates, ...store.upper.copiedUp]);
  const roots = new Set(store.lower.roots);
  const lowerOnly = store.lower.paths.filter((p) => !upperKnows.has(p));
  return [...lowerOnly.filter((p) => roots.has(p)), ...lowerOnly.filter((p) => !roots.has(p))];
}

/**
 * Makes both mishaps through `store.mergedStoreDir` (which must be the mounted overlay): masks the first candidate and
 * tampers with the first other candidate that holds a non-empty regular file.
 * @throws DemoStoreError DEMO_MISHAP when the store has no two such paths (too few lower paths), or a file system
 *   error stops a mishap (evidence: path, errno).
 */
export function makeDemoMishaps(store: MishapStore): DemoMishaps {
  const candidates = mishapCandidates(store);
  const masked = candidates[0];
  let tampered: { path: string; file: string } | undefined;
  for (const candidate of candidates.slice(1)) {
    const file = firstFile(join(store.mergedStoreDir, basename(candidate)), '');
    if (file !== undefined) {
      tampered = { path: candidate, file };
      break;
    }
  }
  if (masked === undefined || tampered === undefined) {
    throw new DemoStoreError('DEMO_MISHAP', 'the demo store has too few lower-only paths for its mishaps (one to mask, one with a file to tamper with)', {
      evidence: { lowerOnlyPaths: candidates.length },
      hint: 'give the demo more lower paths (--lower-paths)',
    });
  }
  const maskedDir = join(store.mergedStoreDir, basename(masked));
  const tamperedFile = join(store.mergedStoreDir, basename(tampered.path), tampered.file);
  attempt(maskedDir, () => rmSync(maskedDir, { recursive: true, force: true }));
  attempt(tamperedFile, () => appendFileSync(tamperedFile, '\n# edited in place through the merged store dir\n'));
  return { masked, tampered: tampered.path, tamperedFile: tampered.file };
}

/** The first non-empty regular file at or under `path` (relative to it; '' for `path` itself), or undefined. */
function firstFile(path: string, relative: string): string | undefined {
  const stat = lstatSync(path);
  if (stat.isFile()) return stat.size > 0 ? relative : undefined;
  if (!stat.isDirectory()) return undefined;
  for (const name of readdirSync(path).sort()) {
    const found = firstFile(join(path, name), relative === '' ? name : `${relative}/${name}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

function attempt(path: string, action: () => void): void {
  try {
    action();
  } catch (cause) {
    throw new DemoStoreError('DEMO_MISHAP', `cannot make the demo's mishap at ${path}: ${errnoCode(cause) ?? messageOf(cause)}`, {
      evidence: { path, errno: errnoCode(cause) },
      cause,
    });
  }
}
