/** Loads the captured mountinfo fixtures of test/fixtures/mountinfo (see capture.sh and each NAME.md there). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo, type MountinfoEntry } from '../../agent/mount/index.ts';

export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'mountinfo');
/** Where capture.sh made each scenario: `${FIXTURE_ROOT}/<name>`. */
export const FIXTURE_ROOT = '/tmp/owfx';

export const FIXTURE_NAMES: readonly string[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -'.txt'.length))
  .sort();

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURE_DIR, `${name}.txt`), 'utf8');
}

/** The parsed fixture; fails the test if any line did not parse. */
export function fixtureMounts(name: string): readonly MountinfoEntry[] {
  const { mounts, errors } = parseMountinfo(fixtureText(name));
  if (errors.length > 0) throw new Error(`fixture ${name}: ${errors.map((e) => e.message).join('; ')}`);
  return mounts;
}

/** The one entry mounted at `mountPoint` (the fixture must have exactly one there). */
export function entryAt(mounts: readonly MountinfoEntry[], mountPoint: string): MountinfoEntry {
  const found = mounts.filter((m) => m.mountPoint === mountPoint);
  if (found.length !== 1) throw new Error(`expected one mount at ${JSON.stringify(mountPoint)}, found ${found.length}`);
  return found[0] as MountinfoEntry;
}
