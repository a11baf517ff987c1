/** Real Nix (Debian's nix-bin 2.8) as a test oracle: building fixture stores and asking Nix about them. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { busyboxPath, runNix } from './nix-kit.ts';

/** `nix path-info --json --all` of a store root, keyed by path (Nix 2.8's array form). */
export interface NixPathInfo {
  readonly path: string;
  readonly narHash: string;
  readonly narSize: number;
  readonly references: readonly string[];
  readonly deriver?: string;
  readonly ca?: string;
  readonly registrationTime: number;
  readonly ultimate?: boolean;
  readonly signatures?: readonly string[];
}

export function nixPathInfos(storeRoot: string): Map<string, NixPathInfo> {
  const out = runNix('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--store', storeRoot, '--json', '--all']);
  const infos = JSON.parse(out) as NixPathInfo[];
  return new Map(infos.map((info) => [info.path, info]));
}

/** Non-empty lines of `nix-store --store ROOT --query FLAG PATH`. */
export function nixQuery(storeRoot: string, flag: string, storePath: string): string[] {
  return runNix('nix-store', ['--store', storeRoot, '--query', flag, storePath])
    .split('\n')
    .filter((line) => line !== '');
}

/** The store paths a fixture build produced. */
export interface NixFixtureStore {
  readonly root: string;
  /** Added with `nix-store --add`: a directory with nested dirs, an executable, an empty file and a symlink. */
  readonly added: string;
  /** Built outputs: `liba`, `tool` (references liba and busybox), `selfref` (references itself and tool). */
  readonly outputs: { readonly liba: string; readonly tool: string; readonly selfref: string };
}

/**
 * Builds a real store at `root` with Nix 2.8: `nix-store --add` of a small tree, then `nix-build` of three
 * derivations whose builder is the kit's busybox (copied into the store), with references between outputs and one
 * self-reference. `work` is a scratch dir for the sources.
 */
export function buildNixFixtureStore(root: string, work: string): NixFixtureStore {
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(src, 'sub', 'deeper', 'file.txt'), 'nested\n');
  fs.writeFileSync(path.join(src, 'empty'), '');
  fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  fs.symlinkSync('sub/deeper/file.txt', path.join(src, 'link'));
  const added = runNix('nix-store', ['--store', root, '--add', src]).trim();

  const bbdir = path.join(work, 'bbdir');
  fs.mkdirSync(bbdir);
  fs.copyFileSync(busyboxPath(), path.join(bbdir, 'busybox'));
  fs.chmodSync(path.join(bbdir, 'busybox'), 0o755);
  const expression = path.join(work, 'fixture.nix');
  fs.writeFileSync(expression, FIXTURE_NIX);
  const built = runNix('nix-build', ['--store', root, expression, '--no-out-link']).trim().split('\n');
  const byName = (suffix: string): string => {
    const found = built.find((p) => p.endsWith(suffix));
    assert.ok(found, `nix-build printed no ${suffix} output: ${built.join(', ')}`);
    return found;
  };
  return { root, added, outputs: { liba: byName('-liba-1.0'), tool: byName('-tool-2.0'), selfref: byName('-selfref-0.1') } };
}

/** Three derivations built with busybox: a library tree, a tool that references it, and a self-referencing output. */
const FIXTURE_NIX = `
let
  bb = builtins.path { path = ./bbdir; name = "busybox"; };
  mk = name: script: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "\${bb}/busybox";
    args = [ "sh" "-c" ("set -e; bb=\${bb}/busybox; " + script) ];
  };
  liba = mk "liba-1.0" ''
    $bb mkdir -p $out/lib $out/share/doc/a/empty-dir
    echo hello > $out/lib/liba.so.1
    $bb ln -s liba.so.1 $out/lib/liba.so
    $bb touch $out/share/doc/a/EMPTY
  '';
  tool = mk "tool-2.0" ''
    $bb mkdir -p $out/bin
    printf '#!\${bb}/busybox sh\\necho \${liba}/lib/liba.so\\n' > $out/bin/tool
    $bb chmod +x $out/bin/tool
  '';
  selfref = mk "selfref-0.1" ''
    $bb mkdir -p $out/etc
    echo $out > $out/etc/self
    echo \${tool} > $out/etc/tool
  '';
in [ liba tool selfref ]
`;
