/** Builds mount facts from literal mountinfo text and a store URL, with no file system access, for the pure check tests. */
import { LEXICAL_VIEW } from '../../agent/checks/layer-paths.ts';
import { mountFactsFromTable, type OverlayModuleDefaults, type ReadMountFacts } from '../../agent/checks/mount-facts.ts';
import { parseMountinfo } from '../../agent/mount/mountinfo.ts';
import { parseStoreUrl, resolveStoreLayout } from '../../agent/store/index.ts';
import type { StoreLayout } from '../../agent/store/store-layout.ts';
import { fixtureText } from '../mount/fixtures.ts';

/** The layout of a store URL, with Nix's compiled-in defaults. */
export function layoutOf(url: string): StoreLayout {
  return resolveStoreLayout(parseStoreUrl(url));
}

/** Facts of `text` (mountinfo lines) for `url`; paths stay lexical (nothing is looked up on disk). */
export function factsOf(text: string, url: string, moduleDefaults?: OverlayModuleDefaults): ReadMountFacts {
  return mountFactsFromTable({ mountinfoFile: 'literal.txt', parsed: parseMountinfo(text), layout: layoutOf(url), view: LEXICAL_VIEW, moduleDefaults });
}

/** Facts of a captured fixture (test/fixtures/mountinfo/NAME.txt) for `url`. */
export function fixtureFacts(name: string, url: string, moduleDefaults?: OverlayModuleDefaults): ReadMountFacts {
  return mountFactsFromTable({
    mountinfoFile: `${name}.txt`,
    parsed: parseMountinfo(fixtureText(name)),
    layout: layoutOf(url),
    view: LEXICAL_VIEW,
    moduleDefaults,
  });
}

/** The fixture scenario dir capture.sh used for NAME. */
export function fx(name: string): string {
  return `/tmp/owfx/${name}`;
}

/** A local-overlay URL for a fixture made the usual way: merged at B/merged/nix/store, lower B/lower, upper B/upper/store. */
export function fixtureUrl(name: string, overrides: { root?: string; lower?: string; upper?: string; extra?: string } = {}): string {
  const b = fx(name);
  return `local-overlay://?root=${overrides.root ?? `${b}/merged`}&lower-store=${overrides.lower ?? `${b}/lower`}&upper-layer=${overrides.upper ?? `${b}/upper/store`}${overrides.extra ?? ''}`;
}

/** The ids of findings, in order. */
export function ids(findings: ReadonlyArray<{ id: string }>): string[] {
  return findings.map((f) => f.id);
}
