/** overlay-warden's version, from its package.json (for `overlay_warden_info`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/index.ts';

/** The `version` of the installed package.json; `unknown` when it cannot be read (the info metric still appears). */
export function agentVersion(): string {
  try {
    const version: unknown = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
