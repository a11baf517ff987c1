/** The `lower daemon` row of `overlay-warden status`: whether the nix-daemon serving the lower store answers. */
import type { LowerDaemonStatus } from '../watch/index.ts';

/**
 * No row for a lower store that is no daemon; else `SOCKET up since T (protocol 1.34, Nix 2.8.0, N valid paths)`,
 * `SOCKET down since T: CODE: message (N failed attempts, next at T)` or `SOCKET not reached yet`. Pure.
 */
export function lowerDaemonRows(daemon: LowerDaemonStatus | undefined): Array<readonly [string, string]> {
  if (daemon === undefined) return [];
  const { socket, state, since, lastError, failures, nextAttemptAt } = daemon;
  if (state === 'up') {
    const facts = [
      `protocol ${daemon.protocol ?? '?'}`,
      ...(daemon.nixVersion === null ? [] : [`Nix ${daemon.nixVersion}`]),
      `${daemon.validPaths ?? '?'} valid paths`,
    ];
    return [['lower daemon', `${socket} up since ${since ?? '?'} (${facts.join(', ')})`]];
  }
  if (state === 'starting') return [['lower daemon', `${socket} not reached yet`]];
  const error = lastError === null ? '' : `: ${lastError.code}: ${lastError.message}`;
  const retry = nextAttemptAt === null ? '' : `, next at ${nextAttemptAt}`;
  return [['lower daemon', `${socket} down since ${since ?? '?'}${error} (${failures} failed attempt${failures === 1 ? '' : 's'}${retry})`]];
}
