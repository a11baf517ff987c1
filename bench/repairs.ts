/**
 * Benchmark of the store repairs, one half per repair (issue 14). Each half builds its own store, runs the repair
 * as users run it (the CLI as a child process, a real overlay mounted in a private mount namespace) and compares it
 * with `cp -a` of the same trees in the same run.
 *
 * - dedupe: 10,000 upper copies of lower paths (small trees: a directory, two files, a symlink; both DBs register
 *   them, the upper one as copied-up lower metadata); `dedupe --apply`: wall time and peak RSS, against `cp -a` of
 *   the same 10,000 trees (which is how the upper copies are made, so the copy is timed on the same files).
 * - pivot: a 1 GiB closure (four real Nix 2.8 store paths: one large file, 1 MiB files, 16 KiB files, a tree of 4 KiB
 *   files with executables and symlinks; random contents) in the lower store, its metadata copied up into the upper
 *   DB as the local-overlay store does, all of it on the `--dead` list; `pivot --dead`: wall time and peak RSS (GNU
 *   time), against `cp -a` of the same store objects; the page cache is dropped before each. Pivot does more than
 *   cp: it NAR-hashes every copy in the worker pool against the upper DB and renames it into place. The overlay is
 *   not mounted, so pivot skips its remount (which costs the same for any size).
 */
// Usage: npm run bench:repairs [-- [--only dedupe|pivot] [--paths N] [--mib N] [--sources]]. Needs root (it mounts an
// overlay; pivot writes the upper layer and takes gc.lock) and, for pivot, Nix 2.8.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createNixDb, type Registration } from '../agent/demo/index.ts';
import { unshareArgv } from '../agent/mount/mount-namespace.ts';
import { narHashOfPathSync } from '../agent/store/nar.ts';
import { encodeNixBase32 } from '../agent/store/nix-base32.ts';
import { nixEnv } from '../test/support/nix-kit.ts';
import { benchCliMain, describeCli } from './built-cli.ts';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
/** Set in the re-run of this script inside its private mount namespace. */
const IN_NAMESPACE = 'OVERLAY_WARDEN_BENCH_REPAIRS_NS';
/** Loaded into the child before the CLI: prints the process's peak RSS (all threads) when it exits. */
const REPORT_MAX_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxRSS-kB '+process.resourceUsage().maxRSS+'\\n'))`;
/** Different trees the paths are copies of (their NAR hashes are computed once each). */
const TEMPLATES = 16;

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    paths: { type: 'string', default: '10000' },
    mib: { type: 'string', default: '1024' },
    sources: { type: 'boolean', default: false },
  },
});

/** One line of the final table. */
interface Figure {
  readonly name: string;
  readonly value: string;
}

/** A scratch dir with the overlay's parts: lower root, merged root (state dir with the upper DB), upper layer, work dir. */
interface OverlayDirs {
  readonly dir: string;
  readonly lowerRoot: string;
  readonly lowerStoreDir: string;
  readonly mergedRoot: string;
  readonly mergedStoreDir: string;
  readonly upperLayer: string;
  readonly workDir: string;
  readonly storeUrl: string;
}

function overlayDirs(name: string): OverlayDirs {
  const dir = fs.mkdtempSync(path.join(process.env['OVERLAY_WARDEN_BENCH_DIR'] ?? '/var/tmp', `ow-bench-${name}-`));
  const d = {
    dir,
    lowerRoot: path.join(dir, 'lower'),
    lowerStoreDir: path.join(dir, 'lower/nix/store'),
    mergedRoot: path.join(dir, 'merged'),
    mergedStoreDir: path.join(dir, 'merged/nix/store'),
    upperLayer: path.join(dir, 'upper'),
    workDir: path.join(dir, 'work'),
  };
  for (const p of [d.lowerStoreDir, d.mergedStoreDir, d.workDir]) fs.mkdirSync(p, { recursive: true });
  return { ...d, storeUrl: `local-overlay://?root=${d.mergedRoot}&lower-store=${encodeURIComponent(d.lowerRoot)}&upper-layer=${d.upperLayer}` };
}

function mountOverlay(d: OverlayDirs): void {
  run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${d.lowerStoreDir},upperdir=${d.upperLayer},workdir=${d.workDir}`, d.mergedStoreDir]);
}

function run(file: string, argv: readonly string[]): void {
  const result = spawnSync(file, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${file} ${argv.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
}

/** Runs the CLI (`argv`) with the peak-RSS reporter; its wall time, peak RSS and parsed --json envelope. */
function timedCli(main: string, argv: readonly string[]): { seconds: number; maxRssBytes: number; envelope: { ok: boolean; result: Record<string, unknown> } } {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', REPORT_MAX_RSS, main, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - started) / 1000;
  const rss = /maxRSS-kB (\d+)/.exec(result.stderr);
  if (result.status !== 0 || rss === null)
    throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr.slice(-2000)}${result.stdout.slice(-2000)}`);
  return { seconds, maxRssBytes: Number(rss[1]) * 1024, envelope: JSON.parse(result.stdout) as { ok: boolean; result: Record<string, unknown> } };
}

/** Seconds `cp -a FROM/. TO` takes (TO created). */
function timedCopy(from: string, to: string): number {
  fs.mkdirSync(to, { recursive: true });
  const started = performance.now();
  run('cp', ['-a', `${from}/.`, to]);
  return (performance.now() - started) / 1000;
}

/** The dedupe half: `count` duplicated paths, removed by `dedupe --apply`; `cp -a` of the same trees as reference. */
function dedupeHalf(main: string, count: number): Figure[] {
  const d = overlayDirs('dedupe');
  try {
    console.log(`dedupe: building ${count} lower paths in ${d.dir} …`);
    const templates = Array.from({ length: TEMPLATES }, (_, t) => {
      const tree = path.join(d.dir, 'templates', String(t));
      fs.mkdirSync(path.join(tree, 'bin'), { recursive: true });
      fs.mkdirSync(path.join(tree, 'share'));
      fs.writeFileSync(path.join(tree, 'bin/tool'), randomFillSync(Buffer.alloc(4096 + 512 * t)), { mode: 0o555 });
      fs.writeFileSync(path.join(tree, 'share/readme'), `template ${t}\n`.repeat(40), { mode: 0o444 });
      fs.symlinkSync('tool', path.join(tree, 'bin/alias'));
      const nar = narHashOfPathSync(tree);
      return { tree, narHash: `sha256:${nar.hash.toString('hex')}`, narSize: nar.narSize };
    });
    const registrations: Registration[] = [];
    for (let i = 0; i < count; i++) {
      const t = templates[i % TEMPLATES]!;
      const baseName = `${encodeNixBase32(randomFillSync(Buffer.alloc(20)))}-dup-${i}`;
      fs.cpSync(t.tree, path.join(d.lowerStoreDir, baseName), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      registrations.push({ path: `/nix/store/${baseName}`, narHash: t.narHash, narSize: t.narSize, registrationTime: 1_700_000_000 });
    }
    // Both DBs register every path: the lower one as its own, the upper one as the overlay store's copied-up metadata.
    for (const stateDir of [path.join(d.lowerRoot, 'nix/var/nix'), path.join(d.mergedRoot, 'nix/var/nix')]) {
      const db = createNixDb(stateDir);
      for (const r of registrations) db.addPath(r);
      db.finish();
    }
    // The reference, and the upper copies: `cp -a` of the same trees into the upper layer.
    const copySeconds = timedCopy(d.lowerStoreDir, d.upperLayer);
    run('sync', []);
    mountOverlay(d);
    const config = path.join(d.dir, 'overlay-warden.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        store: { url: d.storeUrl },
        stateDir: path.join(d.dir, 'state'),
        control: { socket: path.join(d.dir, 'control.sock') },
        remount: { command: [path.join(PROJECT, 'hooks/remount')] },
      }),
    );
    const dedupe = timedCli(main, ['dedupe', '--apply', '--json', '--config', config]);
    const result = dedupe.envelope.result as { removed: number; duplicates: number; bytes: number; check: { servedFromLower: number } | null };
    if (!dedupe.envelope.ok || result.removed !== count || result.check?.servedFromLower !== count) {
      throw new Error(`dedupe did not remove and check every copy: ${JSON.stringify({ ...result, paths: undefined })}`);
    }
    const ratio = dedupe.seconds / copySeconds;
    console.log(
      `dedupe --apply of ${count} paths: ${dedupe.seconds.toFixed(2)} s, peak RSS ${(dedupe.maxRssBytes / 1e6).toFixed(0)} MB, ${(result.bytes / 1e6).toFixed(1)} MB freed; cp -a of the same trees ${copySeconds.toFixed(2)} s (ratio ${ratio.toFixed(2)})`,
    );
    return [
      {
        name: `dedupe --apply, ${count} paths (hash both copies, remove, remount, check)`,
        value: `${dedupe.seconds.toFixed(2)} s, peak RSS ${(dedupe.maxRssBytes / 1e6).toFixed(0)} MB`,
      },
      { name: `cp -a of the same ${count} trees`, value: `${copySeconds.toFixed(2)} s (dedupe / cp -a = ${ratio.toFixed(2)})` },
    ];
  } finally {
    spawnSync('umount', [d.mergedStoreDir]);
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
}

/** Wall time and peak RSS of one command. */
interface Measured {
  readonly seconds: number;
  readonly maxRssBytes: number;
}

interface PivotBench {
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
function benchPivot(options: { readonly mib: number; readonly cli: string; readonly dir: string }): PivotBench {
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

/** The pivot half: a `mib` MiB closure pivoted by `pivot --dead`; `cp -a` of the same objects as reference. */
function pivotHalf(main: string, mib: number): Figure[] {
  if (!Number.isInteger(mib) || mib < 4) throw new Error(`--mib takes a whole number of at least 4, got '${args.mib}'`);
  console.log(`pivot: building a ${mib} MiB closure …`);
  const r = benchPivot({ mib, cli: main, dir: process.env['OVERLAY_WARDEN_BENCH_DIR'] ?? '/var/tmp' });
  const size = r.bytes / 1048576;
  const shown = (m: Measured): string => `${m.seconds.toFixed(2)} s, peak RSS ${(m.maxRssBytes / 1e6).toFixed(0)} MB`;
  console.log(`pivot --dead of ${size.toFixed(0)} MiB (${r.paths} paths, ${r.copied} copied): ${shown(r.pivot)}; cp -a of the same objects ${shown(r.cp)}`);
  return [
    {
      name: `pivot --dead, a ${size.toFixed(0)} MiB closure of ${r.paths} paths (copy, NAR hash, rename)`,
      value: `${shown(r.pivot)}, ${(size / r.pivot.seconds).toFixed(0)} MiB/s`,
    },
    {
      name: `cp -a of the same ${r.paths} store objects`,
      value: `${shown(r.cp)}, ${(size / r.cp.seconds).toFixed(0)} MiB/s (pivot / cp -a = ${(r.pivot.seconds / r.cp.seconds).toFixed(2)})`,
    },
  ];
}

const HALVES: Readonly<Record<string, (main: string) => Figure[]>> = {
  dedupe: (main) => dedupeHalf(main, Number(args.paths)),
  pivot: (main) => pivotHalf(main, Number(args.mib)),
};

if (process.env[IN_NAMESPACE] !== '1') {
  // Re-run inside a private mount namespace: the overlay and its remounts stay there, and vanish with it.
  const [file, ...rest] = [
    ...unshareArgv(process.getuid?.() === 0),
    process.execPath,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
  ];
  const child = spawnSync(file!, rest, { stdio: 'inherit', env: { ...process.env, [IN_NAMESPACE]: '1' } });
  process.exitCode = child.status ?? 1;
} else {
  const main = benchCliMain(args.sources);
  console.log(`CLI ${describeCli(main)}, ${os.availableParallelism()} cores`);
  const names = args.only === undefined ? Object.keys(HALVES) : [args.only];
  const figures: Figure[] = [];
  for (const name of names) {
    const half = HALVES[name];
    if (half === undefined) throw new Error(`--only takes one of ${Object.keys(HALVES).join(', ')}, got '${name}'`);
    figures.push(...half(main));
  }
  console.log('');
  for (const f of figures) console.log(`${f.name}: ${f.value}`);
}
