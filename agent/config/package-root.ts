/** Finds the installed package's root (where config/ and hooks/ live), from sources or from the built dist/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The nearest directory at or above this module holding overlay-warden's
 * package.json. Sources sit at ROOT/agent/…, the build at ROOT/dist/agent/…,
 * so a fixed `../..` would be wrong in one of them.
 */
export function packageRoot(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
    if (dirname(dir) === dir) throw new Error(`overlay-warden's package root (with package.json and config/) is not above ${from}`);
  }
}
