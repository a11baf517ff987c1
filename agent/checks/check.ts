/** The one small interface every check implements (like node_exporter's collectors), and what a check may read. */
import type { Config } from '../config/index.ts';
import type { Finding } from '../findings/index.ts';
import type { NixEnv } from '../store/index.ts';
import type { MountFacts } from './mount-facts.ts';

/** What every check reads. Probed once per run by `gatherCheckContext`, so checks stay cheap and mostly pure. */
export interface CheckContext {
  readonly config: Config;
  /** The merged store dir's mount, as the mount table shows it; `unreadable` when the table could not be read. */
  readonly mount: MountFacts;
  /** The environment Nix would see (NIX_STORE_DIR…), for resolving other store URLs the way the config's was. */
  readonly env: NixEnv;
}

/** A check runs unless the configuration's `checks.disable` lists its id. */
export interface Check {
  /** Stable id, `area.name` (e.g. `mount.merged`; CHECK_IDS lists the registry's); also the label of its metrics. */
  readonly id: string;
  readonly title: string;
  /**
   * Returns the findings (an empty list when all is well). May throw: the
   * runner turns the throw into a `check.failed` finding, and the other checks
   * still run.
   */
  run(context: CheckContext, signal: AbortSignal): Promise<readonly Finding[]> | readonly Finding[];
}
