/** The overlay-warden CLI as benchmarks run it: compiled to JavaScript as shipped (`npm run build`'s settings), or the sources. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
/** Under node_modules/ (ignored by git), so that the compiled files' imports resolve to the project's packages. */
const BUILT = path.join(PROJECT, 'node_modules/.cache/overlay-warden-bench-dist');

/**
 * The path of the CLI entry to run: compiled now from the current sources into BUILT (a few seconds), or with
 * `sources` the `.ts` entry, which Node runs under type stripping at a cost of about 0.3 s and 25 MB per process and
 * per worker thread. Throws when the compiler fails.
 */
export function benchCliMain(sources: boolean): string {
  if (sources) return path.join(PROJECT, 'agent/cli/main.ts');
  const tsc = spawnSync(
    process.execPath,
    [path.join(PROJECT, 'node_modules/typescript/bin/tsc'), '-p', path.join(PROJECT, 'tsconfig.build.json'), '--outDir', BUILT, '--sourceMap', 'false'],
    { encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`compiling the CLI failed:\n${tsc.stdout}${tsc.stderr}`);
  return path.join(BUILT, 'agent/cli/main.js');
}

/** The CLI entry relative to the project, for the report. */
export function describeCli(main: string): string {
  return path.relative(PROJECT, main);
}
