/**
 * Real Nix 2.8 stores arranged as a local-overlay store, for scenario tests: a lower store A, an OverlayFS mount
 * (in a private mount namespace, per script) of A's store dir under an upper layer, and the overlay store's upper
 * DB. Nix 2.8 predates local-overlay stores, so the overlay store's own behaviour is reproduced with its parts:
 * the merged dir is used as a plain local store rooted at B (writes land in the upper layer, as the overlay store's
 * do), and "copying a lower path's metadata up" is `nix-store --dump-db` of the lower store piped into
 * `--load-db` of B, which registers without touching the files, as the overlay store does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inFreshNamespace } from './mount-namespace.ts';
import { busyboxPath, nixEnv } from './nix-kit.ts';
import { requireCommand, requireMountNamespaces, requireNix } from './requirements.ts';

/** A small derivation set built with a static busybox: three inputs, one depending on another, and a final output. */
const NIX_EXPRESSION = `{ seed ? 1 }:
let
  sh = "\${./tools}/busybox";
  step = name: script: derivation { inherit name; system = builtins.currentSystem; builder = sh; args = [ "sh" "-e" "-c" script ]; };
  first = step "chain-input-1" "echo first-\${toString seed} > $out";
  second = step "chain-input-2" "echo second > $out";
  third = step "chain-input-3" "read v < \${second}; echo \${second} $v third > $out";
in step "chain" "read a < \${first}; read b < \${third}; echo \${first} \${third} $a $b > $out"
`;

/** Bash that mounts the fixture's overlay: $B/nix/store over $A/nix/store, upper layer $U. */
export const MOUNT_OVERLAY = 'mount -t overlay overlay -o "lowerdir=$A/nix/store,upperdir=$U,workdir=$W" "$B/nix/store"';

export interface NixOverlayFixture {
  readonly dir: string;
  /** Root of the lower store (store dir ROOT/nix/store, DB ROOT/nix/var/nix/db/db.sqlite). */
  readonly lowerRoot: string;
  readonly lowerStoreDir: string;
  readonly upperLayer: string;
  readonly workDir: string;
  /** Root of the overlay store: its store dir is the mount point, its state dir holds the upper DB. */
  readonly mergedRoot: string;
  readonly mergedStoreDir: string;
  /** The `local-overlay://` URL overlay-warden is given. */
  readonly storeUrl: string;
  /** Where the Nix expression and its busybox live. */
  readonly exprFile: string;
  /** Runs a bash script with the overlay mounted (in a private mount namespace that ends with the script); returns stdout. */
  mounted(script: string): string;
  /** Runs a bash script without the mount (lower store work, GC). */
  unmounted(script: string): string;
  remove(): void;
}

/** The environment scripts see: the Nix kit's (nix-kit.ts), and A (lower root), B (merged root), U (upper layer), W (workdir), EXPR. */
export function scriptEnv(f: Omit<NixOverlayFixture, 'mounted' | 'unmounted' | 'remove'>): NodeJS.ProcessEnv {
  return nixEnv({ A: f.lowerRoot, B: f.mergedRoot, U: f.upperLayer, W: f.workDir, EXPR: f.exprFile });
}

function runBash(script: string, env: NodeJS.ProcessEnv, inNamespace: boolean): string {
  const argv = ['bash', '-c', `set -euo pipefail\n${script}`];
  const [file, ...args] = inNamespace ? inFreshNamespace(argv) : argv;
  const result = spawnSync(file!, args, { env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`fixture script failed (${result.status ?? result.signal}):\n${script}\n--- stderr ---\n${result.stderr}`);
  return result.stdout;
}

/** Skips (or fails under CI) unless the fixture can be made and mounted: private mount namespaces, Nix, busybox. */
export function requireNixOverlayFixture(ctx: Mocha.Context): void {
  requireMountNamespaces(ctx);
  requireNix(ctx);
  requireCommand(ctx, 'busybox');
}

/** Creates the directories, the expression and its busybox; the stores themselves are made by the test's scripts. */
export function createNixOverlayFixture(): NixOverlayFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nix-overlay-'));
  const lowerRoot = path.join(dir, 'lower');
  const mergedRoot = path.join(dir, 'merged');
  const upperLayer = path.join(dir, 'upper');
  const workDir = path.join(dir, 'work');
  const exprDir = path.join(dir, 'expr');
  for (const d of [path.join(lowerRoot, 'nix/store'), path.join(mergedRoot, 'nix/store'), upperLayer, workDir, path.join(exprDir, 'tools')])
    fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(busyboxPath(), path.join(exprDir, 'tools', 'busybox'));
  fs.chmodSync(path.join(exprDir, 'tools', 'busybox'), 0o755);
  const exprFile = path.join(exprDir, 'chain.nix');
  fs.writeFileSync(exprFile, NIX_EXPRESSION);
  const facts = {
    dir,
    lowerRoot,
    lowerStoreDir: path.join(lowerRoot, 'nix/store'),
    upperLayer,
    workDir,
    mergedRoot,
    mergedStoreDir: path.join(mergedRoot, 'nix/store'),
    storeUrl: `local-overlay://?root=${mergedRoot}&lower-store=${encodeURIComponent(lowerRoot)}&upper-layer=${upperLayer}`,
    exprFile,
  };
  const env = scriptEnv(facts);
  return {
    ...facts,
    mounted: (script) => runBash(`${MOUNT_OVERLAY}\n${script}`, env, true),
    unmounted: (script) => runBash(script, env, false),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Parses `KEY=VALUE` lines a script printed (its way of naming the store paths it made). */
export function parseAssignments(stdout: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match !== null) values[match[1]!] = match[2]!;
  }
  return values;
}

/** Bash that copies the metadata of the given lower paths' closures up into the upper DB, as the overlay store does on first use. */
export const COPY_UP = 'copy_up() { nix-store --store "$A" --dump-db $(nix-store --store "$A" -qR "$@") | nix-store --store "$B" --load-db; }\n';

/**
 * The chain built twice: by the lower store (seed 1: `drv`, `out`), then by the overlay store, which copies that
 * build's metadata up and builds a variant (seed 2: `upperDrv`, `upperOut`) whose inputs partly come from the lower
 * store. Nothing roots the lower paths, so a lower GC deletes them. Returns the four store paths by name.
 */
export function buildLowerThenUpper(f: NixOverlayFixture): Record<string, string> {
  const p = parseAssignments(
    f.unmounted(`
      drv=$(nix-instantiate --store "$A" "$EXPR" --arg seed 1 2>/dev/null)
      echo drv=$drv
      echo out=$(nix-store --store "$A" --realise "$drv" 2>/dev/null)
    `),
  );
  return {
    ...p,
    ...parseAssignments(
      f.mounted(`${COPY_UP}
        copy_up ${p['drv']} ${p['out']}
        echo upperOut=$(nix-build --store "$B" "$EXPR" --no-out-link --arg seed 2 2>/dev/null)
        echo upperDrv=$(nix-instantiate --store "$B" "$EXPR" --arg seed 2 2>/dev/null)
      `),
    ),
  };
}
