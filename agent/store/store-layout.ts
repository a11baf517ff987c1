/** The resolved on-disk layout of a local-overlay store: every path Nix derives from the store URL. */

/** What the lower store is, as far as overlay-warden can read it. */
export interface LowerStoreLayout {
  /** The lower store URL, %-decoded (e.g. `/mnt/cacache?read-only=true`); `` when `lower-store` is unset (Nix: auto). */
  readonly url: string;
  /**
   * `local` (a local store, by path or `local://`), `daemon` (`daemon`, `unix://…`), `local-overlay` (stacked),
   * or `auto` (`auto` or unset: Nix opens the local store when it may write the state dir, else the daemon).
   */
  readonly kind: 'local' | 'daemon' | 'local-overlay' | 'auto';
  /** The logical store dir paths are named under (`store` parameter, default NIX_STORE_DIR or `/nix/store`). */
  readonly storeDir: string;
  /** The directory on disk holding its store objects (`real`, or ROOT/nix/store, else storeDir): must be an overlay lowerdir. */
  readonly realStoreDir: string;
  /** Its Nix state dir (`state`, or ROOT/nix/var/nix, else NIX_STATE_DIR or /nix/var/nix); undefined for a daemon whose state overlay-warden cannot see. */
  readonly stateDir: string | undefined;
  /** Its SQLite DB (STATE/db/db.sqlite; for a stacked overlay its upper DB), or undefined when metadata comes from a daemon. */
  readonly db: string | undefined;
  /** `read-only=true`: Nix opens the DB with `immutable=1`, and so does overlay-warden. */
  readonly readOnly: boolean;
  /**
   * For a `daemon` lower store, the nix-daemon socket its metadata comes through: the path of `unix:///PATH`, else
   * NIX_DAEMON_SOCKET_PATH, else STATE/daemon-socket/socket (Nix's default). Undefined for every other kind.
   */
  readonly daemonSocket: string | undefined;
}

/** The full layout of the overlay store, as `overlay-warden layout` prints it. */
export interface StoreLayout {
  /** The store URL this layout was resolved from (as written). */
  readonly url: string;
  /** The logical store dir (`store` parameter, default NIX_STORE_DIR or `/nix/store`). */
  readonly storeDir: string;
  /** The OverlayFS mount point (`real`, or ROOT/nix/store, else storeDir): what users see as the store. */
  readonly mergedStoreDir: string;
  /** The overlay store's Nix state dir (`state`, or ROOT/nix/var/nix, else NIX_STATE_DIR or /nix/var/nix). */
  readonly stateDir: string;
  /** The upper DB: STATE/db/db.sqlite. */
  readonly upperDb: string;
  /** The OverlayFS upperdir (`upper-layer`, canonical). */
  readonly upperLayer: string;
  /** The lower store (`lower-store`, default auto). */
  readonly lower: LowerStoreLayout;
  /** Nix's own `check-mount` setting (default true). */
  readonly checkMount: boolean;
  /** Nix's `remount-hook` setting, if any. */
  readonly remountHook: string | undefined;
}
