/** Runs the CLI in-process with captured output, or as a child process on Node 24, for tests. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../agent/cli/run-cli.ts';

/** The CLI entry point, as a path the Node 24 binary running the tests can execute. */
export const CLI_MAIN = fileURLToPath(new URL('../../agent/cli/main.ts', import.meta.url));

export interface CapturedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `overlay-warden ARGV` in this process with captured streams and the given environment. */
export async function runCliCaptured(argv: readonly string[], env: Record<string, string | undefined> = {}): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
  return { code, stdout, stderr };
}

/** Runs the CLI as a child process (`node main.ts ARGV`), optionally behind a command prefix (mount-namespace.ts's `inFreshNamespace`, setpriv). */
export function runCliProcess(
  argv: readonly string[],
  options: { prefix?: readonly string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const [file, ...args] = [...(options.prefix ?? []), process.execPath, CLI_MAIN, ...argv];
  return spawnSync(file!, args, { encoding: 'utf8', env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000 });
}
