/** Every read the Nix DB reader offers, run once, so a test of what reading does (or leaves behind) covers them all. */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { NixDb } from '../../agent/store/nix-db.ts';

/** Runs every query and stream of `db` over all its paths, and each integrity check (none may find a problem); returns the number of valid paths. */
export function readEverything(db: NixDb): number {
  let rows = 0;
  for (const row of db.iterateValidPaths()) {
    rows++;
    db.queryPathInfo(row.path);
    db.queryReferrers(row.path);
    db.queryPathFromHashPart(path.basename(row.path).slice(0, 32));
  }
  [...db.iterateReferences()];
  [...db.iterateReferenceIds()];
  db.queryRealisations();
  for (const probe of ['quick', 'ValidPaths', 'Refs'] as const) assert.deepEqual(db.checkIntegrity(probe), [], probe);
  assert.equal(db.countValidPaths(), rows);
  return rows;
}
