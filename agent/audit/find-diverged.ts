/** `store.diverged`: a path both DBs register, with different narHash or different references (pure). */
import { finding, type Finding } from '../findings/index.ts';
import { formatNarHash, parseNarHash } from '../store/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { neighbours } from './csr.ts';

/** What the lower DB records for a path, for the evidence of the (few) diverged findings; undefined when unknown. */
export interface LowerLookups {
  readonly narHashOf?: (storePath: string) => string | undefined;
  readonly referencesOf?: (storePath: string) => readonly string[] | undefined;
}

/** Per upper row: the lower row registering the same path, or -1 (inverts the lower index's join). */
export function lowerRowsOfUpper(facts: Pick<AuditFacts, 'upperDb' | 'lowerDb'>): Int32Array {
  const rows = new Int32Array(facts.upperDb.count).fill(-1);
  const joinIndex = facts.lowerDb.joined?.joinIndex;
  if (joinIndex === undefined) return rows;
  for (let lower = 0; lower < facts.lowerDb.count; lower++) {
    const upper = joinIndex[lower] as number;
    if (upper >= 0) rows[upper] = lower;
  }
  return rows;
}

/**
 * For each upper row the lower DB registers too: an error when the narHashes differ (one DB is wrong about the
 * object the merged view shows), a warning when only the references differ (the upper DB's copy of the lower
 * metadata is stale, so closures computed from it are wrong). References are compared only when
 * `facts.lowerReferences` is there; `lower` supplies the lower side's narHash and references for the evidence.
 */
export function findDiverged(facts: AuditFacts, lower: LowerLookups = {}): Finding[] {
  const { upperDb, lowerDb, upperGraph, lowerReferences } = facts;
  const joined = lowerDb.joined;
  const upperHashes = upperDb.narHashes;
  if (joined === undefined || upperHashes === undefined) return [];
  const lowerRow = lowerReferences === undefined ? undefined : lowerRowsOfUpper(facts);
  const findings: Finding[] = [];
  for (let row = 0; row < upperDb.count; row++) {
    if (joined.present[row] !== 1) continue;
    const upperHash = upperHashes.subarray(row * 32, row * 32 + 32);
    const hashDiffers = joined.differing.has(row);
    const refsDiffer =
      lowerRow !== undefined &&
      lowerReferences !== undefined &&
      !sameReferences(facts, row, lowerRow, neighbours(lowerReferences.references, row), lowerReferences.unknownCount[row] as number);
    if (!hashDiffers && !refsDiffer) continue;
    const path = facts.upperPathOf(row);
    const upperRefs = [
      ...Array.from(neighbours(upperGraph.references, row), (r) => facts.upperPathOf(r)),
      ...(upperGraph.selfReferences[row] === 1 ? [path] : []),
    ].sort();
    const evidence = {
      path,
      upperDb: upperDb.file,
      lowerDb: lowerDb.file,
      upperNarHash: formatNarHash(upperHash),
      lowerNarHash: hashDiffers ? lowerHashText(lower, path) : formatNarHash(upperHash),
      narHashDiffers: hashDiffers,
      referencesDiffer: refsDiffer,
      ...(refsDiffer ? { upperReferences: upperRefs, lowerReferences: lower.referencesOf?.(path) } : {}),
    };
    findings.push(
      hashDiffers
        ? finding(
            'store.diverged',
            'error',
            `${path} has narHash ${evidence.upperNarHash} in the upper DB but ${evidence.lowerNarHash ?? 'another'} in the lower DB`,
            evidence,
            'run overlay-warden verify --all to see which matches the content; the lower store was probably replaced under the overlay',
          )
        : finding(
            'store.diverged',
            'warning',
            `${path} has different references in the upper DB than in the lower DB`,
            evidence,
            'the upper DB holds a stale copy of the lower metadata: the lower store was probably replaced under the overlay',
          ),
    );
  }
  return findings;
}

/** The lower DB's narHash of `path` in the DB's own form (`sha256:<hex>`), normalised when it parses. */
function lowerHashText(lower: LowerLookups, path: string): string | undefined {
  const text = lower.narHashOf?.(path);
  if (text === undefined) return undefined;
  try {
    return formatNarHash(parseNarHash(text));
  } catch {
    return text;
  }
}

/** Whether the upper row's references (self included) are exactly the lower row's (given as lower rows). */
function sameReferences(facts: AuditFacts, row: number, lowerRowOf: Int32Array, lowerTargets: Uint32Array, lowerUnknown: number): boolean {
  const { upperGraph } = facts;
  const upperTargets = neighbours(upperGraph.references, row);
  const upperCount = upperTargets.length + (upperGraph.selfReferences[row] === 1 ? 1 : 0);
  if (lowerUnknown > 0 || upperCount !== lowerTargets.length) return false;
  const mapped: number[] = [];
  for (const target of upperTargets) {
    const lower = lowerRowOf[target] as number;
    if (lower < 0) return false;
    mapped.push(lower);
  }
  if (upperGraph.selfReferences[row] === 1) {
    const self = lowerRowOf[row] as number;
    if (self < 0) return false;
    mapped.push(self);
  }
  mapped.sort((a, b) => a - b);
  const lower = Array.from(lowerTargets).sort((a, b) => a - b);
  return mapped.every((value, i) => value === lower[i]);
}
