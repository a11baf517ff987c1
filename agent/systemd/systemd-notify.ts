/**
 * Sends sd_notify messages by running systemd's own `systemd-notify`. Node has no unix datagram sockets, and an
 * addon or a hand-written socket client is more to ship and trust than the tool systemd installs beside itself.
 * What makes the tool usable for a long-running daemon: since systemd 246 it waits until the manager has processed
 * the message (sd_notify_barrier), so the manager still finds the sender in the service's cgroup (the old race, where
 * a message from a process that had already exited was dropped, is gone; bookworm has 252). The message comes from
 * a child, not the main process, so the unit needs NotifyAccess=all.
 */
import { SystemdError } from './systemd-errors.ts';

/** Sends one message made of `assignments` (`READY=1`, `STATUS=…`) to `socket`. */
export type NotifySender = (socket: string, assignments: readonly string[]) => Promise<void>;

/** A send that takes longer is given up (the manager is wedged; the next message tries again). */
const SEND_TIMEOUT_MS = 10_000;

/**
 * Runs `systemd-notify ASSIGNMENT…` with NOTIFY_SOCKET=`socket`.
 * @throws SystemdError SYSTEMD_NOTIFY_FAILED with the tool's exit code and stderr when it cannot run, fails or times out.
 */
export const systemdNotify: NotifySender = async (socket, assignments) => {
  // execa loads when the first message goes out (only under systemd), not with every `overlay-warden` command.
  const { execa } = await import('execa');
  const result = await execa('systemd-notify', [...assignments], {
    env: { NOTIFY_SOCKET: socket },
    reject: false,
    timeout: SEND_TIMEOUT_MS,
    stdin: 'ignore',
  });
  if (result.failed) {
    throw new SystemdError('SYSTEMD_NOTIFY_FAILED', `systemd-notify ${assignments.join(' ')} failed: ${result.stderr.trim() || result.shortMessage}`, {
      evidence: { socket, assignments, exitCode: result.exitCode, stderr: result.stderr, timedOut: result.timedOut },
      hint: 'systemd-notify must be on PATH (systemd package), and the unit needs NotifyAccess=all (the message comes from a child process)',
    });
  }
};
