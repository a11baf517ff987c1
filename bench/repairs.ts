/**
 * Benchmark of the store repairs against `cp -a` of the same trees, in one run. Pivot half: `overlay-warden pivot`
 * of a 1 GiB closure (real Nix 2.8 store paths in a lower store, their metadata copied up into the upper DB as the
 * local-overlay store does, all of them on the `--dead` list): wall time and peak RSS of the command, and of
 * `cp -a` of the same store objects from the lower store dir into a directory on the same filesystem. Pivot does
 * more than cp: it NAR-hashes every copy in the worker pool against the upper DB, and renames into place.
 */
// Usage: npm run bench:repairs [-- [--sources] [--mib N]]. Needs root (pivot writes the upper layer and takes
// gc.lock) and Nix 2.8. The store is built afresh in $OVERLAY_WARDEN_BENCH_DIR or /var/tmp (about 3 × N MiB) and
// removed after. The overlay is not mounted: pivot then skips the remount, which costs the same for any size.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nixEnv } from '../test/support/nix-kit.ts';
import { benchCliMain, describeCli } from './built-cli.ts';

/** Wall time and peak RSS of one command. */
export interface Measured {
  readonly seconds: number;
  readonly maxRssBytes: number;
}

export interface PivotBench {
  readonly paths: number;
  readonly bytes: number;
  readonly pivot: Measured;
  readonly cp: Measured;
  readonly copied: number;
}

/** Runs `argv` under GNU time: its wall time and peak RSS (the largest of the process tree's, as getrusage reports it). */
function measure(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Measured & { stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', 'time-wall %e maxrss-kb %M', ...argv], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  const match = /time-wall ([\d.]+) maxrss-kb (\d+)/.exec(result.stderr);
  if (result.status !== 0 || match === null) throw new Error(`${argv.join(' ')} failed (${String(result.status)}):\n${result.stderr.slice(-2000)}`);
  return { seconds: Number(match[1]), maxRssBytes: Number(match[2]) * 1024, stdout: result.stdout };
}

function sh(script: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`bench setup failed:\n${script}\n${result.stderr}`);
  return result.stdout;
}

/**
 * Writes the sources of the closure: `mib` MiB in four store paths of the shapes stores hold (one large file, 1 MiB
 * files, 16 KiB files, and a tree of 4 KiB files with executables and symlinks), random contents (nothing dedupes).
 */
function writeSources(dir: string, mib: number): string[] {
  const quarter = Math.max(1, Math.floor(mib / 4)) * 1024 * 1024;
  const buffer = Buffer.alloc(1024 * 1024);
  const file = (where: string, bytes: number, mode = 0o644): void => {
    const fd = fs.openSync(where, 'w', mode);
    for (let left = bytes; left > 0; left -= buffer.length) fs.writeSync(fd, randomFillSync(buffer), 0, Math.min(left, buffer.length));
    fs.closeSync(fd);
  };
  const shapes: Array<[string, number]> = [
    ['big-file', quarter],
    ['mib-files', 1024 * 1024],
    ['small-files', 16 * 1024],
    ['tree', 4 * 1024],
  ];
  return shapes.map(([name, size]) => {
    const root = path.join(dir, name);
    if (name === 'big-file') {
      file(root, quarter);
      return root;
    }
    fs.mkdirSync(root);
    for (let i = 0; i * size < quarter; i++) {
      const sub = name === 'tree' ? path.join(root, `d${i % 64}`) : root;
      fs.mkdirSync(sub, { recursive: true });
      file(path.join(sub, `f${i}`), size, i % 7 === 0 ? 0o755 : 0o644);
      if (name === 'tree' && i % 50 === 0) fs.symlinkSync(`f${i}`, path.join(sub, `l${i}`));
    }
    return root;
  });
}

/**
 * The pivot half: builds the stores, runs `pivot --dead` of the whole closure (the CLI `cli`), then `cp -a` of the
 * same objects. Returns the measurements; removes everything it made.
 */
export function benchPivot(options: { readonly mib: number; readonly cli: string; readonly dir: string }): PivotBench {
  const dir = fs.mkdtempSync(path.join(options.dir, 'ow-bench-pivot-'));
  const env = nixEnv({ A: path.join(dir, 'lower'), B: path.join(dir, 'merged'), U: path.join(dir, 'upper'), SRC: path.join(dir, 'src') });
  try {
    for (const d of ['lower/nix/store', 'merged/nix/store', 'upper', 'src', 'cp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const sources = writeSources(path.join(dir, 'src'), options.mib);
    // The lower store gets the paths; the upper DB their registrations (dump-db | load-db registers without files).
    const paths = sh(`for s in ${sources.map((s) => `'${s}'`).join(' ')}; do nix-store --store "$A" --add "$s"; done`, env)
      .trim()
      .split('\n');
    sh(`rm -rf "$SRC"; nix-store --store "$A" --dump-db ${paths.join(' ')} | nix-store --store "$B" --load-db`, env);
    const dead = path.join(dir, 'dead');
    fs.writeFileSync(dead, `${paths.join('\n')}\n`);
    const storeUrl = `local-overlay://?root=${env['B']}&lower-store=${encodeURIComponent(env['A']!)}&upper-layer=${env['U']}`;
    const bytes = Number(sh(`du -sb --apparent-size "$A/nix/store" | cut -f1`, env));
    sh('sync; echo 3 > /proc/sys/vm/drop_caches || true', env);
    const run = measure([process.execPath, options.cli, 'pivot', '--dead', dead, '--json', '--store', storeUrl], {
      ...process.env,
      OVERLAY_WARDEN_SOCKET: path.join(dir, 'no-agent.sock'),
    });
    const report = (JSON.parse(run.stdout) as { result: { copied: string[] } | null; error: unknown }).result;
    if (report === null) throw new Error(`pivot failed: ${run.stdout}`);
    sh('sync; echo 3 > /proc/sys/vm/drop_caches || true', env);
    const cp = measure(['cp', '-a', ...paths.map((p) => `${env['A']!}${p}`), path.join(dir, 'cp')]);
    return { paths: paths.length, bytes, pivot: run, cp, copied: report.copied.length };
  } finally {
    sh(`chmod -R u+w '${dir}' 2>/dev/null || true; rm -rf '${dir}'`, process.env);
  }
}

function formatMeasured(m: Measured): string {
  return `${m.seconds.toFixed(2)} s, peak RSS ${(m.maxRssBytes / 1048576).toFixed(0)} MiB`;
}

/** Prints the pivot half's figures. */
export function printPivotBench(result: PivotBench): void {
  const mib = result.bytes / 1048576;
  console.log(`pivot of a ${mib.toFixed(0)} MiB closure (${result.paths} store paths, ${result.copied} copied):`);
  console.log(`  overlay-warden pivot: ${formatMeasured(result.pivot)} (${(mib / result.pivot.seconds).toFixed(0)} MiB/s, copy + NAR hash + rename)`);
  console.log(`  cp -a:                ${formatMeasured(result.cp)} (${(mib / result.cp.seconds).toFixed(0)} MiB/s)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: args } = parseArgs({ options: { sources: { type: 'boolean', default: false }, mib: { type: 'string', default: '1024' } } });
  const mib = Number(args.mib);
  if (!Number.isInteger(mib) || mib < 4) throw new Error(`--mib takes a whole number of at least 4, got '${args.mib}'`);
  const cli = benchCliMain(args.sources);
  console.log(`CLI: ${describeCli(cli)}; ${os.availableParallelism()} cores`);
  printPivotBench(benchPivot({ mib, cli, dir: process.env['OVERLAY_WARDEN_BENCH_DIR'] ?? '/var/tmp' }));
}
