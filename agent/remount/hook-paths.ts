/** Where the project's hook executables are, from the source tree (agent/…) or the built package (dist/agent/…). */
import { join } from 'node:path';
import { packageRoot } from '../config/index.ts';

/** The default remount command: `hooks/remount` (`mount -o remount` done right). */
export function defaultRemountHook(): string {
  return join(packageRoot(), 'hooks', 'remount');
}

/** The executable users set as Nix's `remount-hook`: asks the agent, or remounts directly when none answers. */
export function nixRemountHook(): string {
  return join(packageRoot(), 'hooks', 'nix-remount-hook');
}
