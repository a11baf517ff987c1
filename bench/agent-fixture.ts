/** The agent benchmark's fixture: a lower store dir with N top-level entries (a real Nix DB beside it), made fast. */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodeNixBase32 } from '../agent/store/nix-base32.ts';
import { nixEnv } from '../test/support/nix-kit.ts';

/** ext4 allows 65,000 links per inode: each template file takes at most this many. */
const LINKS_PER_TEMPLATE = 60_000;

export interface AgentFixture {
  readonly dir: string;
  /** ROOT/nix/store of the lower store. */
  readonly lowerStoreDir: string;
  /** Its DB (a real Nix DB when nix-store is installed, else absent). */
  readonly lowerDb: string;
  readonly upperLayer: string;
  /** A real (small) upper DB, or a path that does not exist. */
  readonly upperDb: string;
  /** Where the overlay would be mounted (not mounted: the watchers do not need it). */
  readonly mergedStoreDir: string;
  readonly entries: number;
}

/** A random valid store path base name (5 % directories, the rest files, as in a store of mostly .drv files). */
export function randomName(tag: string, i: number): string {
  return `${encodeNixBase32(randomFillSync(Buffer.alloc(20)))}-${tag}-${i % 997}.${i % 13}`;
}

/**
 * Creates the fixture in `dir` (or reuses it when `dir/complete.json` says it has `entries` entries). Entries are
 * empty directories (1 in 20) and hard links to a few empty files (fast: ≈25 µs each; the watchers never open them).
 */
export function makeAgentFixture(dir: string, entries: number, log: (line: string) => void): AgentFixture {
  const lowerRoot = path.join(dir, 'lower');
  const upperRoot = path.join(dir, 'upper-root');
  const fixture: AgentFixture = {
    dir,
    lowerStoreDir: path.join(lowerRoot, 'nix/store'),
    lowerDb: path.join(lowerRoot, 'nix/var/nix/db/db.sqlite'),
    upperLayer: path.join(dir, 'upper'),
    upperDb: path.join(upperRoot, 'nix/var/nix/db/db.sqlite'),
    mergedStoreDir: path.join(dir, 'merged/nix/store'),
    entries,
  };
  const marker = path.join(dir, 'complete.json');
  if (fs.existsSync(marker) && (JSON.parse(fs.readFileSync(marker, 'utf8')) as { entries: number }).entries === entries) {
    log(`reusing the fixture in ${dir}`);
    return fixture;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of [fixture.lowerStoreDir, fixture.upperLayer, fixture.mergedStoreDir, path.join(dir, 'templates')]) fs.mkdirSync(d, { recursive: true });
  // Real Nix DBs when Nix is here: the lower DB's identity and the upper DB's referrer queries are then real work.
  fs.writeFileSync(path.join(dir, 'seed.txt'), 'seed\n');
  for (const root of [lowerRoot, upperRoot]) spawnSync('nix-store', ['--store', root, '--add', path.join(dir, 'seed.txt')], { stdio: 'ignore', env: nixEnv() });
  const started = performance.now();
  for (let t = 0; t * LINKS_PER_TEMPLATE < entries; t++) fs.writeFileSync(path.join(dir, 'templates', String(t)), '');
  for (let i = 0; i < entries; i++) {
    const target = path.join(fixture.lowerStoreDir, randomName('pkg', i));
    if (i % 20 === 0) fs.mkdirSync(target);
    else fs.linkSync(path.join(dir, 'templates', String(Math.floor(i / LINKS_PER_TEMPLATE))), target);
    if ((i + 1) % 200_000 === 0) log(`  ${i + 1} entries (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  fs.writeFileSync(marker, JSON.stringify({ entries }));
  return fixture;
}
