/** The error of the demo store builder. */
import { WardenError } from '../errors/index.ts';

export type DemoStoreErrorCode =
  | 'DEMO_STORE_BAD_OPTION'
  | 'DEMO_STORE_DIR_NOT_EMPTY'
  | 'DEMO_STORE_DB_EXISTS'
  | 'DEMO_STORE_IO'
  | 'DEMO_TOUR_TIMEOUT'
  | 'DEMO_MISHAP'
  /** `demo --lower-daemon`: no nix-daemon on PATH. */
  | 'DEMO_NIX_DAEMON_MISSING'
  /** `demo --lower-daemon`: nix-daemon exited, or did not answer in time. */
  | 'DEMO_NIX_DAEMON_FAILED';

/** The demo store could not be built; `evidence` names the option and value, or the path. */
export class DemoStoreError extends WardenError<DemoStoreErrorCode> {}
