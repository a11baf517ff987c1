/** Runs code as user nobody (uid and gid 65534, no groups), to test what an unprivileged reader gets. Needs root and setpriv. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** `setpriv` arguments that drop to nobody before running the rest of the command line. */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] as const;

/** Runs `script` (an ES module's text, .ts imports allowed) with this Node as nobody, from `/`. */
export function runScriptAsNobody(script: string): SpawnSyncReturns<string> {
  const [command, ...args] = AS_NOBODY;
  return spawnSync(command, [...args, process.execPath, '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: '/',
  });
}
