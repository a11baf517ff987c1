/**
 * Private mount namespaces for tests, made with the agent's own `unshareArgv`: a one-shot run in a fresh namespace
 * that ends with the command, or a holder process that keeps one alive for a test's lifetime.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { unshareArgv } from '../../agent/mount/mount-namespace.ts';

const IS_ROOT = process.getuid?.() === 0;

/** Absolute, so a command may be entered into the namespace with a PATH that lacks nsenter. */
const NSENTER = spawnSync('sh', ['-c', 'command -v nsenter'], { encoding: 'utf8' }).stdout.trim() || 'nsenter';

/** `argv` behind the prefix that runs it in a fresh private mount namespace; its mounts vanish when it exits. */
export function inFreshNamespace(argv: readonly string[]): string[] {
  return [...unshareArgv(IS_ROOT), ...argv];
}

/** Runs `argv` in a fresh private mount namespace and waits for it (spawnSync with `options`; utf8, 120 s at most). */
export function runInFreshNamespace(argv: readonly string[], options: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding'> = {}): SpawnSyncReturns<string> {
  const [file, ...args] = inFreshNamespace(argv);
  return spawnSync(file!, args, { timeout: 120_000, maxBuffer: 64 << 20, ...options, encoding: 'utf8' });
}

export interface MountNamespaceOptions {
  /** sh (`set -eu`) run inside before the namespace is ready: the mounts it is to hold. `$1`… are `args`. */
  readonly setup?: string;
  readonly args?: readonly string[];
  /** The environment of the setup script and of every command run by `inside` and `bash` (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A private mount namespace kept alive by a holder process (a shell waiting on a pipe from this process, so it
 * also ends when this process dies). Commands enter it with nsenter: `inside(argv)`, `bash(script)`, or the
 * `nsenter` prefix for commands started elsewhere (an agent, a remount hook).
 */
export class MountNamespace {
  readonly #env: NodeJS.ProcessEnv;
  readonly #holder: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(env: NodeJS.ProcessEnv, holder: ChildProcess, exited: Promise<void>) {
    this.#env = env;
    this.#holder = holder;
    this.#exited = exited;
  }

  /** Starts the holder and runs `setup` in it; rejects with the setup's stderr when it fails. */
  static async open(options: MountNamespaceOptions = {}): Promise<MountNamespace> {
    const env = options.env ?? process.env;
    const script = `set -eu\n${options.setup ?? ''}\necho ready\nexec cat >/dev/null`;
    const [file, ...args] = inFreshNamespace(['sh', '-c', script, 'sh', ...(options.args ?? [])]);
    const holder = spawn(file!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    let stderr = '';
    holder.stderr!.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      holder.stdout!.on('data', (chunk: Buffer) => (stdout += String(chunk)).includes('ready\n') && resolve());
      holder.once('exit', (code, signal) => reject(new Error(`the mount namespace holder exited (${String(code ?? signal)}) before it was ready:\n${stderr}`)));
      holder.once('error', reject);
    });
    return new MountNamespace(env, holder, exited);
  }

  /** The argv prefix that runs a command inside the namespace. */
  get nsenter(): string[] {
    return [NSENTER, `--mount=/proc/${this.#holder.pid}/ns/mnt`];
  }

  /** Runs `argv` inside the namespace and waits for it (utf8, 120 s at most). */
  inside(argv: readonly string[], options: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding'> = {}): SpawnSyncReturns<string> {
    const [file, ...args] = [...this.nsenter, ...argv];
    return spawnSync(file!, args, { env: this.#env, timeout: 120_000, maxBuffer: 64 << 20, ...options, encoding: 'utf8' });
  }

  /** Runs a bash script (`set -euo pipefail`) inside the namespace; returns its stdout, throws with its stderr on failure. */
  bash(script: string): string {
    const result = this.inside(['bash', '-c', `set -euo pipefail\n${script}`]);
    if (result.status !== 0)
      throw new Error(`script in the namespace failed (${String(result.status ?? result.signal)}):\n${script}\n--- stderr ---\n${result.stderr}`);
    return result.stdout;
  }

  /** Ends the holder, and with it the namespace once nothing else runs in it. Idempotent. */
  async close(): Promise<void> {
    this.#holder.kill('SIGKILL');
    await this.#exited;
  }
}
