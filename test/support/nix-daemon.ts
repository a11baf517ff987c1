/** A real nix-daemon (Debian's Nix 2.8) serving a store root on a unix socket in a temp dir, for tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nixEnv } from './nix-kit.ts';
import { waitFor } from './wait-for.ts';

export interface RunningNixDaemon {
  readonly socket: string;
  readonly child: ChildProcess;
  /** What the daemon wrote to stderr so far. */
  log(): string;
  /** SIGKILLs the daemon and its per-connection workers (which call setsid: a group kill misses them), and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts `nix-daemon --store ROOT` with NIX_DAEMON_SOCKET_PATH `dir/daemon.sock` and the kit's nix.conf; resolves once the socket exists. */
export async function startNixDaemon(root: string, dir: string): Promise<RunningNixDaemon> {
  const socket = path.join(dir, 'daemon.sock');
  const child = spawn('nix-daemon', ['--store', root], {
    env: nixEnv({ NIX_DAEMON_SOCKET_PATH: socket }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      for (const worker of childrenOf(child.pid)) process.kill(worker, 'SIGKILL');
      child.kill('SIGKILL');
    }
    await exited;
    // A worker that escaped the kill would keep this pipe, and with it the test process, alive.
    child.stderr?.destroy();
  };
  await waitFor(() => fs.existsSync(socket) || child.exitCode !== null, 'nix-daemon socket', { describe: () => stderr });
  if (child.exitCode !== null) throw new Error(`nix-daemon exited ${child.exitCode}: ${stderr}`);
  return { socket, child, log: () => stderr, kill };
}

/** Pids of the direct children of `pid` (`pgrep -P`). */
function childrenOf(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}
