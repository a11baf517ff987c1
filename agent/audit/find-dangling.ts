/** `store.dangling`: an upper-DB registration whose object is in neither layer (pure decider). */
import { finding, type Finding } from '../findings/index.ts';
import type { AuditFacts } from './audit-facts.ts';
import { LOCATION_CODE } from './locate.ts';

/**
 * One error per upper-DB row located `gone`: Nix believes the path valid, yet `nix-store --verify` would find it
 * "disappeared". Rows hidden by a whiteout are reported as masked instead. `locations` comes from locateRows.
 */
export function findDangling(facts: AuditFacts, locations: Uint8Array): Finding[] {
  const findings: Finding[] = [];
  const { upperDb, lowerDb } = facts;
  for (let row = 0; row < upperDb.count; row++) {
    if (locations[row] !== LOCATION_CODE.gone) continue;
    const path = facts.upperPathOf(row);
    const inLowerDb = lowerDb.joined?.present[row] === 1;
    findings.push(
      finding(
        'store.dangling',
        'error',
        `${path} is registered in the upper DB but is in neither layer${inLowerDb ? ' (the lower DB still registers it too)' : ''}`,
        { path, upperDb: upperDb.file, upperLayer: facts.upperLayer, lowerStoreDir: facts.lowerStoreDir, registeredInLowerDb: inLowerDb },
        inLowerDb
          ? 'the lower store lost the object but not its registration: restore the lower store, or substitute the path again (nix-store --verify --check-contents --repair)'
          : 'the lower store was garbage-collected or changed under the overlay: re-fetch the path (nix-store --realise PATH, or nix-store --repair-path PATH), or remove its registration with nix-store --delete once nothing needs it',
      ),
    );
  }
  return findings;
}
