/**
 * Test preconditions (root, commands on PATH), the one place a test may skip: outside CI it skips with the reason
 * printed; under CI=true a missing requirement fails instead, so CI never passes by skipping.
 */
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

/** Requires Nix's commands (Debian's nix-bin). Nix's configuration is the test kit's own (nix-kit.ts), not the machine's. */
export function requireNix(ctx: Mocha.Context): void {
  for (const command of ['nix', 'nix-store', 'nix-build', 'nix-instantiate', 'nix-hash']) requireCommand(ctx, command);
}

/** Requires what private mount namespaces with real mounts need (mount-namespace.ts): root, unshare, nsenter, mount. */
export function requireMountNamespaces(ctx: Mocha.Context): void {
  requireRoot(ctx);
  for (const command of ['unshare', 'nsenter', 'mount']) requireCommand(ctx, command);
}
