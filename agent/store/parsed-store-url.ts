/** What a parsed store URL is: one typed shape per kind of store whose store dir is on this machine. */

/** Settings every parsed URL carries (Nix's StoreConfig and LocalFSStoreConfig). */
export interface StoreUrlCommon {
  /** The URL as given; for a lower store, the %-decoded value of `lower-store`. */
  readonly url: string;
  /** The part before `?`, as written: `local-overlay://`, `local-overlay`, `/mnt/cacache`, `daemon`, `unix:///x.sock`, `` (auto)… */
  readonly base: string;
  /** Every query parameter, %-decoded, in the order written (values before canonicalisation). */
  readonly params: Readonly<Record<string, string>>;
  /** `store`: the logical store dir, canonical; undefined for Nix's default. */
  readonly storeDir: string | undefined;
  /** `root`, or the path of the `/path` and `local:///path` forms; canonical. */
  readonly root: string | undefined;
  /** `state`, canonical. */
  readonly state: string | undefined;
  /** `real`, canonical. */
  readonly real: string | undefined;
}

/** `local`, `local://…`, `local:///root`, or a plain absolute path (a local store with that root). */
export interface LocalStoreUrl extends StoreUrlCommon {
  readonly kind: 'local';
  /** `read-only` (default false): Nix opens the DB with SQLite's `immutable=1`. */
  readonly readOnly: boolean;
}

/** `auto` or the empty URL: Nix picks a local store when it may write the state dir, else the daemon. */
export interface AutoStoreUrl extends StoreUrlCommon {
  readonly kind: 'auto';
  readonly readOnly: boolean;
}

/** `daemon`, `unix://…`, `unix:///path/to.sock`: a store reached through nix-daemon's socket. */
export interface DaemonStoreUrl extends StoreUrlCommon {
  readonly kind: 'daemon';
  /** The socket path of `unix:///path`; undefined for the default (STATE/daemon-socket/socket). */
  readonly socket: string | undefined;
}

/** `local-overlay://?…` or `local-overlay?…`. */
export interface LocalOverlayStoreUrl extends StoreUrlCommon {
  readonly kind: 'local-overlay';
  /** `read-only` of the overlay store itself (its upper DB). */
  readonly readOnly: boolean;
  /** `lower-store`, parsed; Nix's default (absent or empty) is `auto`. */
  readonly lowerStore: ParsedStoreUrl;
  /** `upper-layer` (required), canonical. */
  readonly upperLayer: string;
  /** `check-mount` (default true). */
  readonly checkMount: boolean;
  /** `remount-hook`, canonical; empty or absent means none. */
  readonly remountHook: string | undefined;
}

export type ParsedStoreUrl = LocalStoreUrl | AutoStoreUrl | DaemonStoreUrl | LocalOverlayStoreUrl;
