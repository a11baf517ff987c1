/**
 * The demo's nix-daemon (`demo --lower-daemon`): Nix's own `nix-daemon --store ROOT` serving the demo lower store
 * on a socket in the demo dir, with a nix.conf of its own (nothing from /etc/nix or the user's), stopped when the
 * demo ends, whichever way it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, messageOf } from '../errors/index.ts';
import { connectDaemon, DaemonError, type DaemonHello } from '../store/index.ts';
import { DemoStoreError } from './demo-store-error.ts';

/** The demo daemon's nix.conf: it serves only, as root, so it needs no build users (a fresh machine has no nixbld group). */
export const DEMO_DAEMON_NIX_CONF = 'build-users-group =\n';

/** Variables that would point the daemon at another store or add settings (NIX_CONF_DIR and the socket are set apart). */
const LEAKING = ['NIX_CONFIG', 'NIX_REMOTE', 'NIX_STORE_DIR', 'NIX_STATE_DIR', 'NIX_LOG_DIR', 'NIX_PATH', 'NIX_DAEMON_SOCKET_PATH', 'NIX_USER_CONF_FILES'];

/** How long the daemon may take to listen and answer a handshake, and to exit when stopped. */
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3000;

export interface DemoDaemon {
  readonly socket: string;
  readonly pid: number;
  /** What the handshake learnt (the daemon's Nix version, the protocol). */
  readonly hello: DaemonHello;
  /** What the daemon wrote to stderr so far. */
  log(): string;
  /** Stops the daemon (SIGTERM, then SIGKILL after a grace period) and the workers it forked. Idempotent. */
  stop(): Promise<void>;
}

/** The environment the demo daemon runs with (pure): `env` without Nix's store and config variables, plus its own. */
export function demoDaemonEnv(env: Readonly<Record<string, string | undefined>>, confDir: string, socket: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of LEAKING) delete out[name];
  return { ...out, NIX_CONF_DIR: confDir, NIX_USER_CONF_FILES: path.join(confDir, 'no-user-nix.conf'), NIX_DAEMON_SOCKET_PATH: socket };
}

/**
 * Starts `nix-daemon --store ROOT` with its socket at DIR/daemon.sock and its nix.conf in DIR/nix-conf, and resolves
 * once it answers a handshake. Its stop also runs when this process exits.
 * @throws DemoStoreError DEMO_NIX_DAEMON_MISSING (no nix-daemon on PATH), DEMO_NIX_DAEMON_FAILED (it exited, or did
 *   not answer in time; evidence: its log); rejects with `signal.reason` when aborted (the daemon is stopped).
 */
export async function startDemoDaemon(
  root: string,
  dir: string,
  options: { readonly env: Readonly<Record<string, string | undefined>>; readonly signal: AbortSignal },
): Promise<DemoDaemon> {
  options.signal.throwIfAborted();
  const confDir = path.join(dir, 'nix-conf');
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(path.join(confDir, 'nix.conf'), DEMO_DAEMON_NIX_CONF);
  const socket = path.join(dir, 'daemon.sock');
  const child = spawn('nix-daemon', ['--store', root], { env: demoDaemonEnv(options.env, confDir, socket), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned !== undefined) {
    if (errnoCode(spawned) === 'ENOENT') {
      throw new DemoStoreError('DEMO_NIX_DAEMON_MISSING', '--lower-daemon needs nix-daemon, and none is on PATH', {
        evidence: { command: 'nix-daemon', path: options.env['PATH'] ?? null },
        hint: 'install Nix (Debian, Ubuntu: apt-get install nix-bin; elsewhere https://nixos.org/download), or run the demo without --lower-daemon',
        cause: spawned,
      });
    }
    throw new DemoStoreError('DEMO_NIX_DAEMON_FAILED', `cannot start nix-daemon: ${messageOf(spawned)}`, {
      evidence: { command: 'nix-daemon' },
      cause: spawned,
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onExit = (): void => killNow(child);
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        // Taken now: once the daemon has exited, its workers are some other process's children.
        const workers = childPids(child.pid!);
        child.kill('SIGTERM');
        for (const pid of workers) signalPid(pid, 'SIGTERM');
        const deadline = Date.now() + STOP_GRACE_MS;
        while (Date.now() < deadline && ((child.exitCode === null && child.signalCode === null) || workers.some(isRunning))) await sleep(20);
        // A worker blocked on its client may ignore SIGTERM for a while: what still runs is killed.
        for (const pid of workers) if (isRunning(pid)) signalPid(pid, 'SIGKILL');
        killNow(child);
        await exited;
        // SIGKILL is delivered, not waited for: the workers are gone once they are no longer running.
        for (let i = 0; i < 100 && workers.some(isRunning); i++) await sleep(10);
      }
      child.stderr?.destroy();
      fs.rmSync(socket, { force: true });
    })());
  try {
    const hello = await firstHandshake(socket, child, () => log, options.signal);
    return { socket, pid: child.pid!, hello, log: () => log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Retries the handshake while the daemon is not listening yet (no socket, or a socket that refuses: it binds before
 * it listens), until it answers, it exits, it fails a handshake (its worker could not open the store), or time is up.
 */
async function firstHandshake(socket: string, child: ChildProcess, log: () => string, signal: AbortSignal): Promise<DaemonHello> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: DaemonError | undefined;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const client = await connectDaemon(socket, { connectTimeoutMs: 1000, timeoutMs: 5000, signal });
      client.close();
      return client.hello;
    } catch (error) {
      if (!(error instanceof DaemonError) || error.code === 'DAEMON_ABORTED') throw signal.aborted ? signal.reason : error;
      last = error;
      if (error.code !== 'DAEMON_CONNECT_FAILED' && error.code !== 'DAEMON_CONNECT_TIMED_OUT') break;
    }
    await sleep(50);
  }
  const ended = child.exitCode !== null || child.signalCode !== null;
  throw new DemoStoreError(
    'DEMO_NIX_DAEMON_FAILED',
    ended
      ? `nix-daemon exited (${String(child.exitCode ?? child.signalCode)}) before it served the demo lower store: ${log().trim() || '(no output)'}`
      : last !== undefined && last.code !== 'DAEMON_CONNECT_FAILED' && last.code !== 'DAEMON_CONNECT_TIMED_OUT'
        ? `nix-daemon does not serve the demo lower store: ${last.message}${log().trim() === '' ? '' : `; its output: ${log().trim()}`}`
        : `nix-daemon did not answer on ${socket} within ${START_TIMEOUT_MS / 1000} s${last === undefined ? '' : ` (${last.message})`}`,
    {
      evidence: { socket, log: log(), exitCode: child.exitCode, signal: child.signalCode, lastError: last?.code ?? null },
      hint: "see nix-daemon's output in the message; the demo runs Nix's nix-daemon with a nix.conf of its own (build-users-group empty)",
    },
  );
}

/** SIGKILLs the daemon and its workers now (synchronous: it also runs from the process's exit event). */
function killNow(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  for (const pid of childPids(child.pid)) signalPid(pid, 'SIGKILL');
  child.kill('SIGKILL');
}

/** Whether `pid` still runs (a zombie runs nothing). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // It exited meanwhile.
  }
}

/**
 * The pids whose parent is `pid`, from /proc (nix-daemon forks a worker per connection, which starts a session of
 * its own, so signalling the daemon's process group would miss it). [] when /proc cannot be read.
 */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold anything: state, then the parent pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // It exited meanwhile.
    }
  }
  return out;
}
