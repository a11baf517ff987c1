/** The one finding that says which findings could not be computed because the lower store's daemon refused ops (pure). */
import { finding, type Finding } from '../findings/index.ts';
import type { LowerMetadata } from '../store/index.ts';

/**
 * `store.lower-metadata-partial` (a warning) when the lower metadata has gaps (LowerMetadata.gaps: ops its daemon
 * rejected), naming each op, the daemon's message, what was read instead and the findings not computed; else none.
 */
export function lowerMetadataPartial(lower: Pick<LowerMetadata, 'gaps' | 'source'>): Finding[] {
  if (lower.gaps.length === 0) return [];
  const notComputed = [...new Set(lower.gaps.flatMap((gap) => gap.notComputed))].sort();
  const what = lower.gaps.map((gap) => `${gap.operation} (the daemon answered: ${gap.message}): ${gap.consequence}`).join('; ');
  return [
    finding(
      'store.lower-metadata-partial',
      'warning',
      `the lower store's daemon ${lower.source} refused what overlay-warden asked of it, so ${notComputed.join(', ')} may be incomplete: ${what}`,
      {
        source: lower.source,
        notComputed,
        refused: lower.gaps.map(({ operation, message, consequence }) => ({ operation, message, consequence })),
      },
      "where the lower store's DB is readable, name the lower store by its directory (lower-store=/path/to/root?read-only=true) and run overlay-warden audit again",
    ),
  ];
}
