/**
 * `overlay-warden demo` (what `npm start` runs): builds a demo lower store and upper layer in a temporary
 * directory, mounts the overlay in a private mount namespace (a user namespace too without root) over a read-only
 * bind of the lower store dir, writes a config for it, and tours what overlay-warden does, running its real commands
 * on it: check, then audit and verify after two mishaps made through the merged view, then the agent noticing drift
 * and a stale view, and `status` against it. Each step says what it expects and whether it came out so; the demo
 * exits 0 only when every step did.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  buildDemoStore,
  type DemoDaemon,
  type DemoStore,
  demoStoreUrl,
  makeDemoMishaps,
  removeDemoDir,
  runAgentTour,
  startDemoDaemon,
} from '../../demo/index.ts';
import { bindMount, mountOverlay, overlayMountOptions, runInPrivateMountNamespace } from '../../mount/index.ts';
import { type Command, type CommandContext, EXIT } from '../command.ts';
import { wholeNumberOption } from '../option-values.ts';
import { quantity } from '../output.ts';
import { printEnvelope, resultEnvelope } from '../json-envelope.ts';
import { createLogger } from '../../log/index.ts';
import { loadConfig } from '../../config/index.ts';
import { narrate, say } from './demo-narration.ts';
import { reportTourCheck, runStep, type DemoStepResult } from './demo-step-runner.ts';
import { mishapSteps, nextCommands, setupSteps, statusStep, type DemoStep } from './demo-steps.ts';

/** What the parent hands the process inside the namespace (as JSON in a file of the demo dir). */
interface DemoPlan {
  readonly dir: string;
  readonly keep: boolean;
  readonly store: Pick<DemoStore, 'storeUrl' | 'mergedStoreDir' | 'storeDir' | 'lower' | 'upper' | 'seconds'>;
  /** With --lower-daemon: the nix-daemon serving the lower store (the store URL names its socket). */
  readonly lowerDaemon: { readonly socket: string; readonly nixVersion: string | null; readonly protocol: string } | null;
}

/** Most paths `--lower-paths` and `--upper-paths` take: the demo is a walkthrough, not a benchmark. */
const MAX_DEMO_PATHS = 1_000_000;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'build a demo overlay store in a temporary directory, mount it privately, and tour what overlay-warden does on it',
  usage: '[--keep] [--lower-paths N] [--upper-paths N] [--lower-daemon] [--json]',
  options: {
    keep: { type: 'boolean', default: false },
    'lower-paths': { type: 'string', default: '120' },
    'upper-paths': { type: 'string', default: '30' },
    'lower-daemon': { type: 'boolean', default: false },
    inside: { type: 'string' },
  },
  optionHelp: [
    ['--keep', 'keep the demo directory (its path is printed) instead of removing it'],
    ['--lower-paths N', 'store paths in the demo lower store (default 120)'],
    ['--upper-paths N', 'store paths only in the upper layer (default 30)'],
    [
      '--lower-daemon',
      "serve the lower store through Nix's nix-daemon on a socket in the demo dir (lower-store=unix://…?real=…), as snix or a shared daemon does",
    ],
    ['--json', "the tour on stderr; on stdout one envelope: each step's own envelope and verdict, the agent tour's"],
  ],
  async run(context) {
    const inside = context.values['inside'];
    return typeof inside === 'string' ? runInside(context, inside) : runOutside(context);
  },
};

async function runOutside(context: CommandContext): Promise<number> {
  const { io, json } = context;
  // Checked before anything is built; parseArgs supplies the defaults, so both are set.
  const lowerPaths = wholeNumberOption(context.values, 'lower-paths', 1, MAX_DEMO_PATHS)!;
  const upperPaths = wholeNumberOption(context.values, 'upper-paths', 1, MAX_DEMO_PATHS)!;
  const keep = context.values['keep'] === true;
  const dir = mkdtempSync(join(tmpdir(), 'overlay-warden-demo-'));
  let store: DemoStore | undefined;
  let daemon: DemoDaemon | undefined;
  try {
    say(io, json, `Building a demo lower store and upper layer with Nix's on-disk formats in ${dir} …`);
    store = await buildDemoStore(join(dir, 'store'), { lowerPaths, upperPaths, duplicates: Math.min(3, lowerPaths), signal: context.signal });
    narrate(
      io,
      json,
      `  lower store: ${quantity(store.lower.paths.length, 'path')} in ${store.lower.realStoreDir}\n  upper layer: ${quantity(store.upper.paths.length, 'path')} in ${store.upper.layer} (+${quantity(store.upper.duplicates.length, 'duplicate')} of lower paths)\n  built in ${store.seconds.toFixed(2)} s\n`,
    );
    if (context.values['lower-daemon'] === true) daemon = await startLowerDaemon(context, store, dir);
    const plan: DemoPlan = {
      dir,
      keep,
      lowerDaemon:
        daemon === undefined
          ? null
          : { socket: daemon.socket, nixVersion: daemon.hello.nixVersion ?? null, protocol: `${daemon.hello.version.major}.${daemon.hello.version.minor}` },
      store: {
        storeUrl:
          daemon === undefined
            ? store.storeUrl
            : demoStoreUrl(
                { mergedRoot: store.mergedRoot, upperStateDir: store.upper.stateDir, upperLayer: store.upper.layer },
                `unix://${daemon.socket}?real=${store.lower.realStoreDir}`,
              ),
        mergedStoreDir: store.mergedStoreDir,
        storeDir: store.storeDir,
        lower: store.lower,
        upper: store.upper,
        seconds: store.seconds,
      },
    };
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const isRoot = process.getuid?.() === 0;
    say(io, json, `Entering a private mount namespace${isRoot ? '' : ' inside a user namespace (no root needed)'}, so nothing mounted here leaks out.`);
    const script = process.argv[1] ?? new URL('../main.ts', import.meta.url).pathname;
    // With --json the process inside prints the envelope (on the stdout it shares with this one), and this one nothing.
    const argv = [process.execPath, ...process.execArgv, script, 'demo', '--inside', dir, ...(json ? ['--json'] : [])];
    // The process inside and its worker threads compile the same TypeScript modules as every run before: Node's
    // on-disk compile cache (its default dir, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off) makes
    // runs after the first start faster. It is an optimisation only: when it cannot be enabled, nothing changes.
    const cache = enableCompileCache().directory;
    const env = cache === undefined ? undefined : { ...io.env, NODE_COMPILE_CACHE: cache };
    return await runInPrivateMountNamespace(argv, { signal: context.signal, isRoot, ...(env === undefined ? {} : { env }) });
  } finally {
    if (daemon !== undefined) {
      await daemon.stop();
      say(io, json, `Stopped the demo's nix-daemon (pid ${daemon.pid}).`);
    }
    if (keep) narrate(io, json, keptText(dir, store));
    else removeDemoDir(dir);
  }
}

/**
 * `--lower-daemon`: starts Nix's nix-daemon serving the demo lower store's root, on DIR/daemon.sock, and says so.
 * @throws DemoStoreError DEMO_NIX_DAEMON_MISSING, DEMO_NIX_DAEMON_FAILED.
 */
async function startLowerDaemon(context: CommandContext, store: DemoStore, dir: string): Promise<DemoDaemon> {
  const { io, json } = context;
  say(io, json, `Starting Nix's nix-daemon --store ${store.lower.root} (--lower-daemon), with a nix.conf of its own …`);
  const daemon = await startDemoDaemon(store.lower.root, dir, { env: io.env, signal: context.signal });
  const { hello } = daemon;
  narrate(
    io,
    json,
    `  nix-daemon pid ${daemon.pid} (Nix ${hello.nixVersion ?? '?'}, protocol ${hello.version.major}.${hello.version.minor}) serves the lower store on ${daemon.socket}\n` +
      `  lower-store=unix://${daemon.socket}?real=${store.lower.realStoreDir}: the lower store's metadata comes through the daemon (as from snix, or a shared\n` +
      `  daemon); its files are still the overlay's lowerdir. It is stopped when the demo ends.\n`,
  );
  return daemon;
}

/** What `--keep` says at the end: the directory is kept, where, and how to look through the merged view again (pure). */
export function keptText(dir: string, store: Pick<DemoStore, 'lower' | 'upper' | 'mergedStoreDir'> | undefined): string {
  const lines = [`\nThe demo directory ${dir} is kept (--keep), with the tour's changes and ${join(dir, 'overlay-warden.yaml')}; remove it when done.`];
  if (store !== undefined) {
    const options = overlayMountOptions({
      lowerDirs: [store.lower.realStoreDir],
      upperDir: store.upper.layer,
      workDir: store.upper.workDir,
      mergedDir: store.mergedStoreDir,
    });
    lines.push(
      "The overlay was mounted only in the demo's own namespace. To look through the merged view again (as root, in a namespace of its own):",
      `  unshare --mount --propagation private sh -c 'mount -t overlay overlay -o ${options} ${store.mergedStoreDir} && exec sh'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function runInside(context: CommandContext, dir: string): Promise<number> {
  const { io, json } = context;
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as DemoPlan;
  const { store } = plan;
  // The lower store must not change under a live overlay, so its dir is made a read-only mount (what `check` asks of
  // a real deployment); the tour's template update writes through a second, writable bind of the same dir.
  const lowerWritableStoreDir = join(dir, 'lower-writable');
  mkdirSync(lowerWritableStoreDir);
  await bindMount(store.lower.realStoreDir, lowerWritableStoreDir, { signal: context.signal });
  await bindMount(store.lower.realStoreDir, store.lower.realStoreDir, { readOnly: true, signal: context.signal });
  await mountOverlay(
    { lowerDirs: [store.lower.realStoreDir], upperDir: store.upper.layer, workDir: store.upper.workDir, mergedDir: store.mergedStoreDir },
    context.signal,
  );
  say(
    io,
    json,
    `Mounted the overlay at ${store.mergedStoreDir}:\n  lowerdir=${store.lower.realStoreDir} (a read-only bind mount of itself)\n  upperdir=${store.upper.layer}` +
      (plan.lowerDaemon === null ? '' : `\n  lower metadata: the nix-daemon at ${plan.lowerDaemon.socket}`),
  );
  const configFile = join(dir, 'overlay-warden.yaml');
  // Shorter waits than the defaults (debounce 200 ms, coalesce 1 s): the tour makes one change at a time. One hashing
  // thread: the demo store is small, and each thread starts by loading the hashing code (most of a small verify's time).
  writeFileSync(
    configFile,
    `# written by overlay-warden demo\nstore:\n  url: "${store.storeUrl}"\nstateDir: ${join(dir, 'state')}\ncontrol:\n  socket: ${join(dir, 'run', 'control.sock')}\nhttp:\n  address: "off"\nremount:\n  coalesceMs: 100\nwatch:\n  debounceMs: 100\npool:\n  size: 1\nlog:\n  format: text\n`,
    { mode: 0o600 },
  );
  // The demo's own configuration (the steps load the same file with --config), not the context's default one.
  const config = loadConfig({ flags: { config: configFile }, env: io.env });
  const { layout } = config;
  const steps: DemoStepResult[] = [];
  const run = (step: DemoStep): Promise<boolean> => runStep(context, step, layout, steps);

  let ok = true;
  for (const step of setupSteps(configFile, plan.lowerDaemon !== null)) ok = (await run(step)) && ok;

  const mishaps = makeDemoMishaps(store);
  say(
    io,
    json,
    `Two mishaps, made through the merged store dir (what is /nix/store on a real system) as a user would:\n  rm -rf ${join(store.mergedStoreDir, basename(mishaps.masked))}   (a lower-only path: OverlayFS leaves a whiteout in the upper layer, so the path is masked)\n  echo … >> ${join(store.mergedStoreDir, basename(mishaps.tampered), mishaps.tamperedFile)}   (OverlayFS copies the file up, and the edit lands in the upper copy)`,
  );
  for (const step of mishapSteps(configFile, store.upper.duplicates.length, mishaps)) ok = (await run(step)) && ok;

  const logger = createLogger({ level: 'info', format: json ? 'json' : 'text', stream: json ? process.stderr : process.stdout });
  const tour = await runAgentTour({
    config,
    store: { ...store, lowerWritableStoreDir },
    logger,
    env: io.env,
    signal: context.signal,
    say: (text) => say(io, json, text),
    report: (check) => reportTourCheck(io, json, check),
    whileRunning: () => run(statusStep(configFile)),
  });
  await new Promise<void>((resolve) => logger.on('finish', resolve).end());
  ok &&= tour.ok;
  const failed = steps.filter((s) => !s.asExpected).length + tour.checks.filter((c) => !c.asExpected).length;
  say(
    io,
    json,
    ok
      ? `Every step came out as expected (${quantity(steps.length + tour.checks.length, 'step')}).`
      : `${quantity(failed, 'step')} did NOT come out as expected (✗ above).`,
  );
  say(
    io,
    json,
    `On your own store, next:\n${nextCommands()
      .map((line) => `  ${line}`)
      .join('\n')}`,
  );
  narrate(io, json, `\nThe overlay disappears with this mount namespace; the demo directory is ${plan.keep ? 'kept' : 'removed next'}.\n`);
  const exitCode = ok ? EXIT.ok : EXIT.findings;
  if (json) {
    const result = {
      dir,
      kept: plan.keep,
      store: {
        url: store.storeUrl,
        mergedStoreDir: store.mergedStoreDir,
        lowerPaths: store.lower.paths.length,
        upperPaths: store.upper.paths.length,
        duplicates: store.upper.duplicates.length,
        builtSeconds: store.seconds,
        lowerDaemon: plan.lowerDaemon,
      },
      mishaps: { masked: mishaps.masked, tampered: mishaps.tampered },
      steps,
      agentTour: tour,
      next: nextCommands(),
    };
    printEnvelope(
      io,
      resultEnvelope(
        'demo',
        exitCode,
        steps.flatMap((step) => step.output.findings),
        result,
      ),
    );
  }
  return exitCode;
}
