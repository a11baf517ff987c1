/** Copies the planned paths up: each to a temporary name in the upper layer, NAR-hashed in the pool, then renamed into place. */
import fs from 'node:fs';
import { messageOf } from '../errors/index.ts';
import type { WorkerPool } from '../pool/index.ts';
import { parseNarHash } from '../store/index.ts';
import { copyStoreObject } from './copy-object.ts';
import type { PivotRegistration } from './pivot-plan.ts';

/**
 * The temporary names' prefix: not a store path name, so Nix never takes one for a path (its GC would delete one),
 * and the audit reports one left behind as a stray; the next pivot removes it.
 */
export const PIVOT_TEMP_PREFIX = '.overlay-warden-pivot-';

export interface CopyFailure {
  readonly baseName: string;
  readonly reason: 'copy-failed' | 'hash-mismatch';
  readonly message: string;
}

export interface CopyUpOptions {
  /** The lower layer's store dir (the copies' source). */
  readonly lowerStoreDir: string;
  readonly upperLayer: string;
  readonly pool: WorkerPool;
  readonly signal: AbortSignal;
  readonly onCopied: (registration: PivotRegistration) => void;
  readonly onFailed: (failure: CopyFailure) => void;
}

/** Removes temporary copies an interrupted pivot left in the upper layer; returns how many. Call it under gc.lock. */
export function removeLeftovers(upperLayer: string): number {
  let removed = 0;
  for (const name of fs.readdirSync(upperLayer)) {
    if (!name.startsWith(PIVOT_TEMP_PREFIX)) continue;
    fs.rmSync(`${upperLayer}/${name}`, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * Copies each registration's lower object to `PIVOT_TEMP_PREFIX<name>` in the upper layer (the same filesystem, so the
 * rename is atomic), NAR-hashes the copy in the pool while the next one is copied, and renames it to its real name
 * only when hash and size equal the upper DB's and nothing took the name meanwhile. A failure (copy error, hash
 * mismatch) removes that copy and is reported through `onFailed`; the others go on. Returns the content bytes
 * written. Rejects with `signal.reason` when aborted, after removing every copy not yet renamed.
 */
export async function copyUp(registrations: readonly PivotRegistration[], options: CopyUpOptions): Promise<number> {
  const { upperLayer, pool, signal } = options;
  const pending = new Set<string>();
  const inFlight: Promise<void>[] = [];
  const limit = Math.max(2, pool.size * 2);
  let bytes = 0;
  const finish = async (registration: PivotRegistration, temp: string): Promise<void> => {
    const target = `${upperLayer}/${registration.baseName}`;
    let digest: { hash: string; narSize: number };
    try {
      digest = await pool.run({ type: 'nar-hash', path: temp }, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      discard(pending, temp);
      options.onFailed({ baseName: registration.baseName, reason: 'copy-failed', message: `cannot hash the copy: ${messageOf(error)}` });
      return;
    }
    const expected = parseNarHash(registration.narHash).toString('hex');
    if (digest.hash !== expected || digest.narSize !== registration.narSize) {
      discard(pending, temp);
      options.onFailed({
        baseName: registration.baseName,
        reason: 'hash-mismatch',
        message: `the lower copy hashes to sha256:${digest.hash} (${digest.narSize} bytes), the upper DB says ${registration.narHash} (${registration.narSize} bytes): not copied; \`overlay-warden verify --lower\` checks the lower store`,
      });
      return;
    }
    if (fs.lstatSync(target, { throwIfNoEntry: false }) !== undefined) {
      // Nix put it there meanwhile (a substitution through the overlay): the upper layer has it either way.
      discard(pending, temp);
      options.onCopied(registration);
      return;
    }
    fs.renameSync(temp, target);
    pending.delete(temp);
    options.onCopied(registration);
  };
  try {
    for (const registration of registrations) {
      signal.throwIfAborted();
      const temp = `${upperLayer}/${PIVOT_TEMP_PREFIX}${registration.baseName}`;
      fs.rmSync(temp, { recursive: true, force: true });
      pending.add(temp);
      try {
        bytes += await copyStoreObject(`${options.lowerStoreDir}/${registration.baseName}`, temp);
      } catch (error) {
        discard(pending, temp);
        options.onFailed({ baseName: registration.baseName, reason: 'copy-failed', message: messageOf(error) });
        continue;
      }
      inFlight.push(finish(registration, temp));
      if (inFlight.length >= limit) await inFlight.shift();
    }
    for (const next of inFlight.splice(0)) await next;
    return bytes;
  } finally {
    // Aborted or failed: wait for the hashes still running (they reject at once on abort), then drop their copies.
    await Promise.allSettled(inFlight);
    for (const temp of [...pending]) discard(pending, temp);
  }
}

function discard(pending: Set<string>, temp: string): void {
  fs.rmSync(temp, { recursive: true, force: true });
  pending.delete(temp);
}
