/** Makes a control socket path safe to listen on: a private directory, and a stale socket removed only if nobody answers. */
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { errnoCode, messageOf } from '../errors/index.ts';
import { TrustError, trustPolicy, withTrustedDirectory } from '../trust/index.ts';
import { ControlError } from './control-errors.ts';

/** How long a probe of an existing socket waits for an answer before calling it live (a busy agent may accept slowly). */
export const SOCKET_PROBE_TIMEOUT_MS = 1000;

/**
 * Creates the socket's directory if missing (mode 0700) and refuses one that
 * someone other than root or the agent's user can write, even a sticky one:
 * whoever can create entries there could put their own socket in our place
 * and answer the Nix hook. The directories on its way are checked too (owned by
 * root or the agent's user, writable by nobody else unless sticky; symlinks
 * followed only when trusted), so none of them can be swapped between this
 * check and the listen. Throws ControlError CONTROL_DIR_UNSAFE, or
 * CONTROL_LISTEN_FAILED when the directory cannot be made (a file in its place
 * or on the way).
 */
export function assertSocketDirSafe(socketPath: string, uid: number = process.getuid?.() ?? 0): void {
  const dir = dirname(socketPath);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    withTrustedDirectory(dir, { what: "the control socket's directory", policy: trustPolicy(uid) }, () => undefined);
  } catch (cause) {
    if (!(cause instanceof TrustError)) throw pathUnusable(socketPath, `cannot make its directory ${dir}`, cause);
    if (cause.code !== 'FILE_UNTRUSTED') throw pathUnusable(socketPath, cause.message, cause);
    const { at, uid: owner, mode, reason } = cause.evidence as { at: string; uid: number; mode: string; reason: string };
    throw new ControlError('CONTROL_DIR_UNSAFE', `refusing to listen on ${socketPath}: ${reason}`, {
      cause,
      evidence: { dir, uid: owner, mode: mode.replace(/^0/, ''), ...(cause.evidence['role'] === 'target' ? {} : { unsafe: at }) },
      hint: `use a directory only root can write (the default is /run/overlay-warden), or: chown root ${at} && chmod ${cause.evidence['role'] === 'target' ? '0700' : 'go-w'} ${at}`,
    });
  }
}

/** True when a process accepts connections on the unix socket at `socketPath`. ECONNREFUSED and ENOENT mean no. */
export function socketAnswers(socketPath: string, timeoutMs = SOCKET_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const done = (live: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    // No answer within the timeout: a live but busy listener (its backlog full) is still a listener.
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (error) => done(!['ECONNREFUSED', 'ENOENT'].includes(errnoCode(error) ?? '')));
  });
}

/**
 * Clears the way for `listen(socketPath)`: nothing there is fine; a socket
 * nobody answers on (left by a crashed agent) is removed; a live socket throws
 * ControlError CONTROL_SOCKET_IN_USE; anything that is not a socket throws
 * CONTROL_PATH_NOT_SOCKET and is left alone; a path that cannot be looked at
 * (ENAMETOOLONG, EACCES) throws CONTROL_LISTEN_FAILED.
 */
export async function clearStaleSocket(socketPath: string): Promise<'absent' | 'removed-stale'> {
  let stat;
  try {
    stat = lstatSync(socketPath);
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return 'absent';
    throw pathUnusable(socketPath, 'cannot look at what is there', cause);
  }
  if (!stat.isSocket()) {
    throw new ControlError('CONTROL_PATH_NOT_SOCKET', `${socketPath} exists and is not a socket; refusing to replace it`, {
      evidence: { socketPath, mode: stat.mode.toString(8) },
      hint: 'set control.socket to another path, or remove that file if it is yours',
    });
  }
  if (await socketAnswers(socketPath)) {
    throw new ControlError('CONTROL_SOCKET_IN_USE', `another process answers on ${socketPath}: is an agent already running?`, {
      evidence: { socketPath },
      hint: 'stop the other agent first, or give this one its own control.socket',
    });
  }
  try {
    unlinkSync(socketPath);
  } catch (cause) {
    if (errnoCode(cause) !== 'ENOENT') throw cause;
  }
  return 'removed-stale';
}

/** A socket path the agent cannot use (a file where its directory should be, a name too long): a setting to fix. */
function pathUnusable(socketPath: string, what: string, cause: unknown): ControlError {
  const errno = errnoCode(cause);
  return new ControlError('CONTROL_LISTEN_FAILED', `cannot listen on ${socketPath}: ${what} (${errno ?? messageOf(cause)})`, {
    cause,
    evidence: { socketPath, errno },
    hint: 'set control.socket to a path whose directory the agent can create and use',
  });
}
