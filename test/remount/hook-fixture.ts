/** Test hooks: small sh scripts that log each call (one line per invocation) and then do what a test needs. */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestHook {
  readonly path: string;
  /** The log the hook appends one line to per call: `LIBMOUNT_FORCE_MOUNT2 $# $@`. */
  readonly log: string;
  /** Invocations so far (lines in the log). */
  calls(): string[];
}

/** Writes `dir/name` (mode 0755) that logs its call, then runs `body` (sh). */
export function writeHook(dir: string, name: string, body: string): TestHook {
  const path = join(dir, name);
  const log = join(dir, `${name}.calls`);
  writeFileSync(path, `#!/bin/sh\necho "\${LIBMOUNT_FORCE_MOUNT2:-unset} $# $*" >> '${log}'\n${body}\n`);
  chmodSync(path, 0o755);
  return {
    path,
    log,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  };
}
