/**
 * Booting a Debian root with its own systemd under `systemd-nspawn`, for the deployment tests: the project bound at
 * /opt/overlay-warden as an installation, units installed and enabled with `systemctl --root`, and each boot run in a
 * private mount namespace of its own until the machine powers itself off.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT as PROJECT } from './built-dist.ts';
import { inFreshNamespace } from './mount-namespace.ts';
import { withSafetyNet } from './wait-for.ts';
import { runCommand } from './run-command.ts';

/** What a boot left: nspawn's exit code and the console (the boot's messages and the test units' output). */
export interface BootResult {
  readonly exitCode: number | null;
  readonly console: string;
}

/** A running boot: `done` settles when the machine has powered off (or was killed after its time). */
export interface Boot {
  readonly done: Promise<BootResult>;
  /** The console so far (for messages when something does not come). */
  console(): string;
}

export interface BootOptions {
  /** nspawn's `--bind=`/`--bind-ro=` options, besides the project's. */
  readonly binds: readonly string[];
  /** `--volatile=overlay`: what the boot writes to the root is lost at power-off. */
  readonly volatile: boolean;
  readonly timeoutMs: number;
}

/**
 * The options that bind the project read-only at /opt/overlay-warden, where the units expect an installation (the
 * built dist/, node_modules with Node 24, hooks/, deploy/). A git worktree shares the main checkout's node_modules
 * through a symlink: its target is bound at the same path, so the link resolves inside too.
 */
export function projectBinds(): string[] {
  const binds = [`--bind-ro=${PROJECT}:/opt/overlay-warden`];
  const modules = path.join(PROJECT, 'node_modules');
  if (fs.lstatSync(modules).isSymbolicLink()) {
    const target = fs.realpathSync(modules);
    binds.push(`--bind-ro=${target}:${target}`);
  }
  return binds;
}

/**
 * Boots `root` with `systemd-nspawn --register=no --keep-unit -b` in a private mount namespace (the container's mounts
 * never reach the host's table), the project bound as `projectBinds` says. The host's network is shared. `done`
 * rejects when the machine has not powered off after `timeoutMs` (it is killed then).
 */
export function bootMachine(root: string, options: BootOptions): Boot {
  const argv = inFreshNamespace([
    'systemd-nspawn',
    '--register=no',
    '--keep-unit',
    '--quiet',
    '--console=pipe',
    ...(options.volatile ? ['--volatile=overlay'] : []),
    '-D',
    root,
    ...projectBinds(),
    ...options.binds,
    '--boot',
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let console = '';
  child.stdout.on('data', (chunk: Buffer) => (console += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (console += chunk.toString()));
  const exited = new Promise<BootResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, console }));
  });
  const done = withSafetyNet(exited, 'the machine to power off', { timeoutMs: options.timeoutMs, describe: () => console.slice(-6000) }).catch(
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
  return { done, console: () => console };
}

/** `systemctl --root=ROOT enable UNIT…`: links the units as their [Install] sections say, as on a real system. */
export async function enableUnits(root: string, units: readonly string[]): Promise<void> {
  await runCommand('systemctl', [`--root=${root}`, 'enable', ...units]);
}

/** Copies a file of the project into the root (directories made), with `mode`. */
export function installFromProject(root: string, from: string, to: string, mode = 0o644): void {
  writeInRoot(root, to, fs.readFileSync(path.join(PROJECT, from)), mode);
}

/** Writes a file into the root (directories made), with `mode`. */
export function writeInRoot(root: string, to: string, content: string | Buffer, mode = 0o644): void {
  const file = path.join(root, to);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

/** `systemctl show` output (`Key=value` lines) as a record. */
export function systemctlProperties(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
