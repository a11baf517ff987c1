/** Where the project's hook executables are, from the source tree (agent/…) or the built package (dist/agent/…). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project root: the nearest directory above this module holding `hooks/`
 * beside a `package.json`. Works from `agent/remount/` (run from source) and
 * from `dist/agent/remount/` (the built package ships `hooks/` at its root).
 */
export function projectRoot(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'hooks'))) return dir;
    if (dirname(dir) === dir) return join(import.meta.dirname, '../..');
  }
}

/** The default remount command: `hooks/remount` (`mount -o remount` done right). */
export function defaultRemountHook(): string {
  return join(projectRoot(), 'hooks', 'remount');
}

/** The executable users set as Nix's `remount-hook`: asks the agent, or remounts directly when none answers. */
export function nixRemountHook(): string {
  return join(projectRoot(), 'hooks', 'nix-remount-hook');
}
