/** Runs code as user nobody (uid and gid 65534, no groups), to test what an unprivileged reader gets. Needs root and setpriv. */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';

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

/** Starts `script` (as runScriptAsNobody) without waiting: stdin and stdout are pipes, stderr is kept for messages. */
export function spawnScriptAsNobody(script: string, args: readonly string[] = []): ChildProcess {
  const [command, ...prefix] = AS_NOBODY;
  return spawn(command, [...prefix, process.execPath, '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script, ...args], {
    cwd: '/',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
