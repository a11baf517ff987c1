/** Why a remount is wanted: one variant per source of flags, with the facts each source knows. */

/** Every source of remount flags, as the design lists them. */
export const REMOUNT_SOURCES = ['watcher', 'probe', 'lower-grew', 'nix-hook', 'manual'] as const;
export type RemountSource = (typeof REMOUNT_SOURCES)[number];

/**
 * A request to remount, discriminated on `source`:
 * - `watcher`: an upper-layer entry was deleted directly while the lower store
 *   has the same path, so the merged view may keep serving the deleted copy;
 * - `probe`: a probe through the merged dir saw a stale view (ESTALE, or content
 *   the layers no longer hold);
 * - `lower-grew`: new lower paths, invisible through the overlay until a remount;
 * - `nix-hook`: Nix ran its `remount-hook` (after GC or optimise);
 * - `manual`: `overlay-warden remount`, or an operator over the control socket.
 */
export type RemountRequest =
  | { readonly source: 'watcher'; readonly storePath: string; readonly upperPath: string; readonly lowerPath: string }
  | { readonly source: 'probe'; readonly path: string; readonly symptom: ProbeSymptom; readonly detail?: string }
  | { readonly source: 'lower-grew'; readonly paths: readonly string[] }
  | { readonly source: 'nix-hook'; readonly mergedStoreDir: string }
  | { readonly source: 'manual'; readonly by: string; readonly note?: string };

/** What a probe saw: ESTALE from the kernel, or the merged view disagreeing with the layers. */
export const PROBE_SYMPTOMS = ['estale', 'serves-deleted', 'missing-lower', 'content-mismatch'] as const;
export type ProbeSymptom = (typeof PROBE_SYMPTOMS)[number];

const isString = (v: unknown): v is string => typeof v === 'string';

/** True when `value` has the shape of a RemountRequest (for data read back from a state file or a socket). */
export function isRemountRequest(value: unknown): value is RemountRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  switch (r['source']) {
    case 'watcher':
      return isString(r['storePath']) && isString(r['upperPath']) && isString(r['lowerPath']);
    case 'probe':
      return isString(r['path']) && (PROBE_SYMPTOMS as readonly unknown[]).includes(r['symptom']) && (r['detail'] === undefined || isString(r['detail']));
    case 'lower-grew':
      return Array.isArray(r['paths']) && r['paths'].every(isString);
    case 'nix-hook':
      return isString(r['mergedStoreDir']);
    case 'manual':
      return isString(r['by']) && (r['note'] === undefined || isString(r['note']));
    default:
      return false;
  }
}

/** One line for logs and reports, e.g. `watcher: upper copy of abc…-hello deleted directly`. */
export function describeRemountRequest(request: RemountRequest): string {
  switch (request.source) {
    case 'watcher':
      return `watcher: the upper copy of ${request.storePath} was deleted directly while the lower store has it`;
    case 'probe':
      return `probe: ${request.symptom} at ${request.path}${request.detail === undefined ? '' : ` (${request.detail})`}`;
    case 'lower-grew':
      return `lower store grew by ${request.paths.length} path${request.paths.length === 1 ? '' : 's'}`;
    case 'nix-hook':
      return `Nix's remount-hook for ${request.mergedStoreDir}`;
    case 'manual':
      return `manual request by ${request.by}${request.note === undefined ? '' : `: ${request.note}`}`;
  }
}
