/** One whole mount check: gather the facts once, run every enabled check, report. What `check` runs and the agent re-runs after a remount. */
import type { Config } from '../config/index.ts';
import type { NixEnv } from '../store/index.ts';
import type { CheckContext } from './check.ts';
import type { RealpathView } from './layer-paths.ts';
import { FS_VIEW, gatherMountFacts } from './mount-facts.ts';
import { enabledChecks } from './registry.ts';
import { runChecks, type CheckReport } from './run-checks.ts';

/** Probes what every check reads, once: the mount facts of `config`. Never rejects for an unreadable mount table. */
export async function gatherCheckContext(config: Config, env: NixEnv, view: RealpathView = FS_VIEW): Promise<CheckContext> {
  return { config, env, mount: await gatherMountFacts(config, view) };
}

/**
 * Gathers the context and runs the mount and layer checks (MOUNT_CHECKS) one after another, but those
 * `config.checks.disable` lists. A check that throws becomes a `check.failed` finding. Rejects only when `signal` is
 * aborted.
 */
export async function runMountCheck(config: Config, env: NixEnv, signal: AbortSignal): Promise<CheckReport & { readonly context: CheckContext }> {
  signal.throwIfAborted();
  const context = await gatherCheckContext(config, env);
  const report = await runChecks(enabledChecks(config.checks.disable), context, signal);
  return { ...report, context };
}
