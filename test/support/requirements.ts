/** Test preconditions (a command on PATH, root): skip with the reason printed outside CI; under CI=true, fail instead. */
import { spawnSync } from 'node:child_process';

/** True under CI=true, where a missing requirement is a failure, never a skip. */
export const IN_CI = process.env['CI'] === 'true';

/** Skips the current test or suite (`this` of a mocha hook or test) with `reason`, or throws under CI. */
export function skipOrFail(ctx: Mocha.Context, reason: string): never {
  if (IN_CI) throw new Error(`requirement not met under CI=true: ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** Requires `command` on PATH (found with `command -v`). */
export function requireCommand(ctx: Mocha.Context, command: string): void {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
  if (!found) skipOrFail(ctx, `${command} is not installed`);
}

/** Requires running as root (uid 0). */
export function requireRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() !== 0) skipOrFail(ctx, 'needs root');
}
