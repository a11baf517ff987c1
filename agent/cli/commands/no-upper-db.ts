/** What `audit` and `verify` say about an overlay Nix has not used yet: it has no upper DB, so nothing is registered in it. */
import { decideUpperDb, probeUpperDb } from '../../checks/index.ts';
import type { Finding } from '../../findings/index.ts';
import type { StoreLayout } from '../../store/index.ts';

/**
 * `layer.upper-db-absent` (info, the finding `check` gives) when the upper DB does not exist, so that a report of
 * nothing registered says why instead of looking like a clean store; nothing otherwise (a DB that cannot be read is
 * the audit's own error). Opens the DB read-only when it exists, and creates nothing.
 */
export function noUpperDbFindings(layout: StoreLayout): Finding[] {
  const facts = probeUpperDb(layout.upperDb, layout.storeDir);
  return facts.state === 'absent' ? decideUpperDb(facts) : [];
}
