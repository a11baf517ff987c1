/** A real stale overlay for remount tests: mounted in a private mount namespace kept alive by a sleeping process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Absolute, so a test may run it with a PATH that lacks it. */
const NSENTER = spawnSync('sh', ['-c', 'command -v nsenter'], { encoding: 'utf8' }).stdout.trim() || 'nsenter';

/**
 * An overlay in a private mount namespace kept alive by a sleeping process: "$dir/merged" over lower "l" and
 * upper "u", both holding `p`; the upper copy is then deleted directly, so the view is stale until a remount.
 * `inside(argv)` runs a command in that namespace.
 */
export class StaleOverlay {
  readonly merged: string;
  readonly #holder: ChildProcess;
  private constructor(merged: string, holder: ChildProcess) {
    this.merged = merged;
    this.#holder = holder;
  }

  static async create(dir: string): Promise<StaleOverlay> {
    const script = `
      set -eu
      cd "$1"; mkdir -p l u w merged
      echo lower > l/p; echo upper > u/p
      mount -t overlay overlay -o "lowerdir=$1/l,upperdir=$1/u,workdir=$1/w" "$1/merged"
      cat "$1/merged/p" > /dev/null
      rm "$1/u/p"
      echo ready
      exec sleep 600`;
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (chunk: Buffer) => String(chunk).includes('ready') && resolve());
      holder.once('exit', (code) => reject(new Error(`the namespace holder exited with ${code}`)));
    });
    return new StaleOverlay(join(dir, 'merged'), holder);
  }

  /** The argv prefix that runs a command inside the namespace. */
  get nsenter(): string[] {
    return [NSENTER, `--mount=/proc/${this.#holder.pid}/ns/mnt`];
  }

  inside(argv: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    const [file, ...args] = [...this.nsenter, ...argv];
    return spawnSync(file!, args, { encoding: 'utf8', env, timeout: 60_000 });
  }

  /** What the merged dir serves for `p`. */
  served(): string {
    const run = this.inside(['cat', join(this.merged, 'p')]);
    return (run.stdout || run.stderr).trim();
  }

  close(): void {
    this.#holder.kill('SIGKILL');
  }
}

