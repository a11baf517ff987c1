/** Locates the worker entry beside the module that starts the pool, with that module's own extension. */

/**
 * The URL of `baseName` next to `moduleUrl`, with `moduleUrl`'s extension: `.ts` when the
 * sources run under Node's type stripping, `.js` after `tsc` emitted them into `dist/`.
 * Pure: `siblingModuleUrl('file:///a/pool/worker-pool.ts', 'worker')` is `file:///a/pool/worker.ts`.
 */
export function siblingModuleUrl(moduleUrl: string, baseName: string): URL {
  const { pathname } = new URL(moduleUrl);
  const file = pathname.slice(pathname.lastIndexOf('/') + 1);
  const dot = file.lastIndexOf('.');
  const extension = dot > 0 ? file.slice(dot) : '';
  return new URL(`./${baseName}${extension}`, moduleUrl);
}
