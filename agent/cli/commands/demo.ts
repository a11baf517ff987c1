/**
 * `overlay-warden demo` (what `npm start` runs): builds a demo lower store and upper layer in a temporary
 * directory, mounts the overlay in a private mount namespace (a user namespace too without root), writes a
 * config for it, and walks through what overlay-warden does, running its real commands on it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemoStore, type DemoStore, removeDemoDir, runAgentTour } from '../../demo/index.ts';
import { mountOverlay, runInPrivateMountNamespace } from '../../mount/index.ts';
import { type CliIo, type Command, type CommandContext, EXIT } from '../command.ts';
import { wholeNumberOption } from '../option-values.ts';
import { paint, quantity } from '../output.ts';
import { printEnvelope, resultEnvelope, type JsonEnvelope } from '../json-envelope.ts';
import { createLogger } from '../../log/index.ts';
import { loadConfig } from '../../config/index.ts';

/** What the parent hands the process inside the namespace (as JSON in a file of the demo dir). */
interface DemoPlan {
  readonly dir: string;
  readonly keep: boolean;
  readonly store: Pick<DemoStore, 'storeUrl' | 'mergedStoreDir' | 'storeDir' | 'lower' | 'upper' | 'seconds'>;
}

/** One step as `demo --json` reports it: the command line and the envelope that command printed. */
interface DemoStepResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly output: JsonEnvelope;
}

/** Most paths `--lower-paths` and `--upper-paths` take: the demo is a walkthrough, not a benchmark. */
const MAX_DEMO_PATHS = 1_000_000;

/** One step of the walkthrough: a sentence for newcomers, then a real overlay-warden command. */
interface DemoStep {
  readonly say: string;
  readonly argv: readonly string[];
}

/** The walkthrough, in order; each later feature adds its steps here. */
export function demoSteps(configFile: string): DemoStep[] {
  return [
    { say: 'What overlay-warden resolved from the store URL: where each part of the store lives.', argv: ['layout', '--config', configFile] },
    {
      say: "The mount check: is the merged store dir really this overlay, with these layers, usable? (Nix's own check-mount is compared too.)",
      argv: ['check', '--config', configFile],
    },
  ];
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'build a demo overlay store in a temporary directory, mount it privately, and show what overlay-warden does',
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
    ['--json', "the narration on stderr; on stdout one envelope: each step's own envelope, the agent tour's verdict"],
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
  try {
    say(io, json, `Building a demo lower store and upper layer with Nix's on-disk formats in ${dir} …`);
    const store = await buildDemoStore(join(dir, 'store'), { lowerPaths, upperPaths, duplicates: Math.min(3, lowerPaths), signal: context.signal });
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
    return await runInPrivateMountNamespace(argv, { signal: context.signal, isRoot });
  } finally {
    if (keep) narrate(io, json, `Kept ${dir}\n`);
    else removeDemoDir(dir);
  }
}

async function runInside(context: CommandContext, dir: string): Promise<number> {
  const { io, json } = context;
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as DemoPlan;
  const { store } = plan;
  await mountOverlay(
    { lowerDirs: [store.lower.realStoreDir], upperDir: store.upper.layer, workDir: store.upper.workDir, mergedDir: store.mergedStoreDir },
    context.signal,
  );
  say(io, json, `Mounted the overlay at ${store.mergedStoreDir}:\n  lowerdir=${store.lower.realStoreDir}\n  upperdir=${store.upper.layer}`);
  const configFile = join(dir, 'overlay-warden.yaml');
  writeFileSync(
    configFile,
    `# written by overlay-warden demo\nstore:\n  url: "${store.storeUrl}"\nstateDir: ${join(dir, 'state')}\ncontrol:\n  socket: ${join(dir, 'run', 'control.sock')}\nhttp:\n  address: "off"\nremount:\n  coalesceMs: 300\nlog:\n  format: text\n`,
    { mode: 0o600 },
  );
  let worst: number = EXIT.ok;
  const steps: DemoStepResult[] = [];
  for (const step of demoSteps(configFile)) {
    say(io, json, step.say);
    narrate(io, json, paint(io, json ? 'stderr' : 'stdout', 'dim', `$ overlay-warden ${step.argv.join(' ')}\n`));
    const code = json ? await runStepForJson(context, step.argv, steps) : await context.runCommandLine(step.argv, io);
    if (code === EXIT.usage) return code;
    worst = Math.max(worst, code);
  }
  const config = loadConfig({ flags: { config: configFile }, env: io.env });
  const logger = createLogger({ level: 'info', format: json ? 'json' : 'text', stream: json ? process.stderr : process.stdout });
  const toured = await runAgentTour({ config, store, logger, env: io.env, signal: context.signal, say: (text) => say(io, json, text) });
  await new Promise<void>((resolve) => logger.on('finish', resolve).end());
  say(io, json, `Done. The overlay disappears with this mount namespace; the demo directory is ${plan.keep ? 'kept' : 'removed next'}.`);
  const exitCode = toured ? worst : EXIT.findings;
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
      steps,
      agentTour: { ok: toured },
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

/** Runs a step with `--json`, keeps the envelope it printed in `steps`, and resolves to its exit code. */
async function runStepForJson(context: CommandContext, argv: readonly string[], steps: DemoStepResult[]): Promise<number> {
  let stdout = '';
  const exitCode = await context.runCommandLine([...argv, '--json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: context.io.stderr,
    env: context.io.env,
  });
  steps.push({ argv, exitCode, output: JSON.parse(stdout) as JsonEnvelope });
  return exitCode;
}

/** Text for people: on stdout, or on stderr with --json (stdout then carries the envelope alone). */
function narrate(io: CliIo, json: boolean, text: string): void {
  io[json ? 'stderr' : 'stdout'].write(text);
}

function say(io: CliIo, json: boolean, text: string): void {
  narrate(io, json, `\n${paint(io, json ? 'stderr' : 'stdout', 'bold', '▶')} ${text}\n`);
}
