/** The pivot scenario's store: a lower build, its metadata copied up, and an upper build whose closure reaches into lower paths. */
import { DatabaseSync } from 'node:sqlite';
import { buildLowerThenUpper, createNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';

export interface PivotScenario {
  readonly f: NixOverlayFixture;
  /** drv, out: the lower build (seed 1); upperDrv, upperOut: the upper build (seed 2), which reuses lower inputs. */
  readonly p: Readonly<Record<string, string>>;
  /** The OVERLAY_WARDEN_SOCKET the CLI is given: nothing listens there (no agent). */
  readonly socket: string;
  /** The upper DB file. */
  readonly upperDb: string;
}

export const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

/**
 * Builds the stores as lower-gc-breaks-upper-closures.test.ts does (nothing roots the lower paths, so a lower GC deletes
 * them), with the upper build's lower inputs left in the lower layer alone.
 */
export function buildPivotScenario(): PivotScenario {
  const f = createNixOverlayFixture();
  const p = buildLowerThenUpper(f);
  // Nix 2.8, used as a plain local store on the merged dir, touches the lower inputs of a build, and OverlayFS copies
  // them up; the local-overlay store leaves them in the lower layer. Drop those identical upper copies (as `nix store
  // optimise` does for a local-overlay store), so the upper package's closure reaches into the lower layer.
  f.unmounted('for e in "$U"/*; do if [ -e "$A/nix/store/$(basename "$e")" ]; then rm -rf "$e"; fi; done');
  return { f, p, socket: `${f.dir}/no-agent.sock`, upperDb: `${f.mergedRoot}/nix/var/nix/db/db.sqlite` };
}

/** Writes the lower store's `--print-dead` list to a file; returns its path and the paths. */
export function printDead(s: PivotScenario): { file: string; paths: string[] } {
  const file = `${s.f.dir}/dead`;
  s.f.unmounted(`nix-store --store "$A" --gc --print-dead 2>/dev/null > ${file}`);
  return { file, paths: lines(s.f.unmounted(`cat ${file}`)) };
}

/**
 * Makes the upper DB forget `path` (its registration and the Refs rows naming it), as an upper DB whose copy-up
 * stopped short would be: a test fixture's DB edit, never pivot's.
 */
export function forgetInUpperDb(s: PivotScenario, path: string): void {
  const db = new DatabaseSync(s.upperDb);
  try {
    const row = db.prepare('select id from ValidPaths where path = ?').get(path);
    if (row === undefined) throw new Error(`${path} is not in the upper DB`);
    db.prepare('delete from Refs where reference = ? or referrer = ?').run(row['id'] as number, row['id'] as number);
    db.prepare('delete from ValidPaths where id = ?').run(row['id'] as number);
  } finally {
    db.close();
  }
}
