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
  type DemoMishaps,
  type DemoStore,
  judgeStep,
  makeDemoMishaps,
  removeDemoDir,
  runAgentTour,
  type StepExpectation,
  type StepVerdict,
  type TourCheck,
} from '../../demo/index.ts';
import { bindMount, mountOverlay, overlayMountOptions, runInPrivateMountNamespace } from '../../mount/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import { type CliIo, type Command, type CommandContext, EXIT } from '../command.ts';
import { wholeNumberOption } from '../option-values.ts';
import { paint, quantity } from '../output.ts';
import { printEnvelope, resultEnvelope, type JsonEnvelope } from '../json-envelope.ts';
import { createLogger } from '../../log/index.ts';
import { loadConfig } from '../../config/index.ts';
import { demoStepText } from './demo-step-text.ts';

/** What the parent hands the process inside the namespace (as JSON in a file of the demo dir). */
interface DemoPlan {
  readonly dir: string;
  readonly keep: boolean;
  readonly store: Pick<DemoStore, 'storeUrl' | 'mergedStoreDir' | 'storeDir' | 'lower' | 'upper' | 'seconds'>;
}

/** One step as `demo --json` reports it: the command line, the envelope that command printed, and the verdict. */
interface DemoStepResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly expected: string;
  readonly asExpected: boolean;
  readonly differences: readonly string[];
  readonly output: JsonEnvelope;
}

/** Most paths `--lower-paths` and `--upper-paths` take: the demo is a walkthrough, not a benchmark. */
const MAX_DEMO_PATHS = 1_000_000;

/** One step of the tour: a sentence for newcomers, a real overlay-warden command, and what it should come out as. */
export interface DemoStep {
  readonly say: string;
  readonly argv: readonly string[];
  readonly expect: StepExpectation;
}

/** The steps on the freshly mounted store: what overlay-warden resolved, and a clean mount check. */
export function setupSteps(configFile: string): DemoStep[] {
  return [
    {
      say: 'What overlay-warden resolved from the store URL: where each part of the store lives.',
      argv: ['layout', '--config', configFile],
      expect: { exitCode: EXIT.ok, findings: [], nothingElseAt: ['error', 'warning'] },
    },
    {
      say: "The mount check: is the merged store dir really this overlay, with these layers, usable? (Nix's own check-mount is compared too.) The demo's lower store dir is a read-only bind mount, as it should be in production, so there is nothing to warn about.",
      argv: ['check', '--config', configFile],
      expect: {
        exitCode: EXIT.ok,
        findings: [
          { id: 'layer.lower-read-only', count: 1 },
          { id: 'mount.ok', count: 1 },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
  ];
}

/** The steps after the mishaps: audit finds the duplicates and the masked path, verify the tampered copy. */
export function mishapSteps(configFile: string, duplicates: number, mishaps: DemoMishaps): DemoStep[] {
  return [
    {
      say: `The audit (the store's fsck, no hashing) compares both DBs and both layers: it should list the paths both layers hold (duplicates waste the upper layer's space: the demo's ${duplicates}, and the copy the edit made) and the masked path, which the lower DB registers but the merged view hides.`,
      argv: ['audit', '--config', configFile],
      expect: {
        exitCode: EXIT.findings,
        findings: [
          { id: 'store.duplicate', count: duplicates + 1, path: mishaps.tampered },
          { id: 'store.masked', count: 1, path: mishaps.masked },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
    {
      say: "Verify NAR-hashes what the merged view serves for the upper DB's paths and the upper layer's copies of lower paths: the edited copy no longer matches its narHash (and the masked path, which it cannot serve, is reported again).",
      argv: ['verify', '--config', configFile],
      expect: {
        exitCode: EXIT.findings,
        findings: [
          { id: 'store.corrupt', count: 1, path: mishaps.tampered },
          { id: 'store.masked', count: 1, path: mishaps.masked },
        ],
        nothingElseAt: ['error', 'warning'],
      },
    },
  ];
}

/** The step while the agent runs: the real `status`, over the agent's control socket. */
export function statusStep(configFile: string): DemoStep {
  return {
    say: '`status` asks the running agent over its control socket: the mount it checked, the drift it saw, the remounts it made.',
    argv: ['status', '--config', configFile],
    expect: { exitCode: EXIT.ok, findings: [{ id: 'mount.ok', count: 1 }], nothingElseAt: ['error', 'warning'] },
  };
}

/** What to run next on one's own store: commands that exist, for the closing lines. */
export function nextCommands(): string[] {
  return [
    "overlay-warden layout --store 'local-overlay://?…'   what overlay-warden makes of your store URL (or set store.url in config/overlay-warden.yaml)",
    'overlay-warden check                                 is the mount the one the URL describes?',
    'overlay-warden audit                                 duplicates, masked, stray, dangling paths, broken closures',
    'overlay-warden verify                                NAR hashes of the upper layer (--all for both layers)',
    'overlay-warden run                                   the agent (deploy/systemd/overlay-warden.service), then overlay-warden status',
  ];
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'build a demo overlay store in a temporary directory, mount it privately, and tour what overlay-warden does on it',
  usage: '[--keep] [--lower-paths N] [--upper-paths N] [--json]',
  options: {
    keep: { type: 'boolean', default: false },
    'lower-paths': { type: 'string', default: '120' },
    'upper-paths': { type: 'string', default: '30' },
    inside: { type: 'string' },
  },
  optionHelp: [
    ['--keep', 'keep the demo directory (its path is printed) instead of removing it'],
    ['--lower-paths N', 'store paths in the demo lower store (default 120)'],
    ['--upper-paths N', 'store paths only in the upper layer (default 30)'],
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
  try {
    say(io, json, `Building a demo lower store and upper layer with Nix's on-disk formats in ${dir} …`);
    store = await buildDemoStore(join(dir, 'store'), { lowerPaths, upperPaths, duplicates: Math.min(3, lowerPaths), signal: context.signal });
    narrate(
      io,
      json,
      `  lower store: ${quantity(store.lower.paths.length, 'path')} in ${store.lower.realStoreDir}\n  upper layer: ${quantity(store.upper.paths.length, 'path')} in ${store.upper.layer} (+${quantity(store.upper.duplicates.length, 'duplicate')} of lower paths)\n  built in ${store.seconds.toFixed(2)} s\n`,
    );
    const plan: DemoPlan = {
      dir,
      keep,
      store: {
        storeUrl: store.storeUrl,
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
    if (keep) narrate(io, json, keptText(dir, store));
    else removeDemoDir(dir);
  }
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
    `Mounted the overlay at ${store.mergedStoreDir}:\n  lowerdir=${store.lower.realStoreDir} (a read-only bind mount of itself)\n  upperdir=${store.upper.layer}`,
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
  for (const step of setupSteps(configFile)) ok = (await run(step)) && ok;

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

/**
 * Runs a step once, with `--json`, keeping its envelope in `steps`; shows the command line, the text the command
 * prints (made from that envelope), what the step expects and whether it came out so. Resolves to that verdict.
 */
async function runStep(context: CommandContext, step: DemoStep, layout: StoreLayout, steps: DemoStepResult[]): Promise<boolean> {
  const { io, json } = context;
  say(io, json, step.say);
  narrate(io, json, paint(io, stream(json), 'dim', `$ overlay-warden ${step.argv.join(' ')}\n`));
  let stdout = '';
  const exitCode = await context.runCommandLine([...step.argv, '--json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: context.io.stderr,
    env: context.io.env,
  });
  const output = JSON.parse(stdout) as JsonEnvelope;
  const verdict = judgeStep(step.expect, { exitCode, findings: output.findings });
  narrate(io, json, demoStepText(io, output, layout));
  narrate(io, json, verdictLine(io, json, verdict));
  steps.push({ argv: step.argv, exitCode, expected: verdict.expected, asExpected: verdict.asExpected, differences: verdict.differences, output });
  return verdict.asExpected;
}

/** `expected: …  ✓ as expected`, or ✗ with what differed. */
function verdictLine(io: CliIo, json: boolean, verdict: StepVerdict): string {
  const mark = verdict.asExpected
    ? paint(io, stream(json), ['green', 'bold'], '✓ as expected')
    : paint(io, stream(json), ['red', 'bold'], `✗ NOT as expected: ${verdict.differences.join('; ')}`);
  return `${paint(io, stream(json), 'bold', 'expected:')} ${verdict.expected}  ${mark}\n`;
}

function reportTourCheck(io: CliIo, json: boolean, check: TourCheck): void {
  const mark = check.asExpected ? paint(io, stream(json), ['green', 'bold'], '✓') : paint(io, stream(json), ['red', 'bold'], '✗');
  narrate(io, json, `\n${paint(io, stream(json), 'bold', 'expected:')} ${check.expected}\n${mark} ${check.what}\n`);
}

function stream(json: boolean): 'stdout' | 'stderr' {
  return json ? 'stderr' : 'stdout';
}

/** Text for people: on stdout, or on stderr with --json (stdout then carries the envelope alone). */
function narrate(io: CliIo, json: boolean, text: string): void {
  io[stream(json)].write(text);
}

function say(io: CliIo, json: boolean, text: string): void {
  narrate(io, json, `\n${paint(io, stream(json), 'bold', '▶')} ${text}\n`);
}
