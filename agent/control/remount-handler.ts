/** The control socket's `remount` action: turns a request from the Nix hook or `overlay-warden remount` into a Remounter request. */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RemountOutcome, RemountRequest } from '../remount/index.ts';
import { ControlError } from './control-errors.ts';
import type { ControlHandler } from './control-server.ts';
import type { ControlRequest } from './control-protocol.ts';

/** The sources a client may claim; the others (watcher, probe, lower-grew) come from inside the agent only. */
export const CONTROL_REMOUNT_SOURCES = ['nix-hook', 'manual'] as const;

/** A path in canonical form when it exists, else just normalised. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Maps `{action: 'remount', source?: 'nix-hook' | 'manual', mergedStoreDir?, by?, note?}`
 * to a RemountRequest. Throws ControlError CONTROL_BAD_REQUEST for a bad field,
 * and CONTROL_WRONG_STORE when `mergedStoreDir` is not the one the agent
 * supervises (the Nix hook of another store: it should remount directly).
 */
export function toRemountRequest(request: ControlRequest, mergedStoreDir: string): RemountRequest {
  const source = request['source'] ?? 'manual';
  const dir = request['mergedStoreDir'];
  if (dir !== undefined && (typeof dir !== 'string' || !dir.startsWith('/'))) {
    throw new ControlError('CONTROL_BAD_REQUEST', '"mergedStoreDir" must be an absolute path', { evidence: { mergedStoreDir: dir } });
  }
  if (dir !== undefined && canonical(dir) !== canonical(mergedStoreDir)) {
    throw new ControlError('CONTROL_WRONG_STORE', `this agent supervises ${mergedStoreDir}, not ${dir}`, {
      evidence: { requested: dir, supervised: mergedStoreDir },
      hint: 'the hook of a store no agent supervises remounts directly',
    });
  }
  const text = (field: string): string | undefined => {
    const value = request[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length > 1000)
      throw new ControlError('CONTROL_BAD_REQUEST', `"${field}" must be a string of at most 1000 characters`, { evidence: { field } });
    return value;
  };
  if (source === 'nix-hook') return { source: 'nix-hook', mergedStoreDir: dir ?? mergedStoreDir };
  if (source === 'manual') {
    const note = text('note');
    return { source: 'manual', by: text('by') ?? 'control socket', ...(note === undefined ? {} : { note }) };
  }
  throw new ControlError('CONTROL_BAD_REQUEST', `"source" must be one of ${CONTROL_REMOUNT_SOURCES.join(', ')}, got ${JSON.stringify(source)}`, {
    evidence: { source },
  });
}

/**
 * The `remount` handler: flags a remount and answers with the outcome of the
 * run that covers it. If the client gives up waiting (disconnect, timeout),
 * the remount still runs; only the answer is dropped.
 */
export function remountHandler(remounter: { request(request: RemountRequest): Promise<RemountOutcome> }, mergedStoreDir: string): ControlHandler {
  return async (request, signal) => {
    const outcome = remounter.request(toRemountRequest(request, mergedStoreDir));
    if (request['wait'] === false) {
      outcome.catch(() => undefined);
      return { queued: true };
    }
    signal.throwIfAborted();
    return outcome;
  };
}
