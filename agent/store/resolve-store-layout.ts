/** Derives the on-disk layout of a local-overlay store (and of its lower store) from its parsed URL, as Nix does. */
import { WardenError } from '../errors/index.ts';
import { canonAbsolutePath, joinCanonPath } from '../mount/index.ts';
import type { LowerStoreLayout, StoreLayout } from './store-layout.ts';
import type { ParsedStoreUrl } from './parsed-store-url.ts';

export type StoreLayoutErrorCode = 'STORE_LAYOUT_NOT_OVERLAY' | 'STORE_LAYOUT_BAD_ENV';

/** A URL that parses but does not describe a local-overlay store, or a Nix environment variable that is not an absolute path. */
export class StoreLayoutError extends WardenError<StoreLayoutErrorCode> {}

/**
 * The environment variables Nix takes its defaults from (`process.env` fits):
 * NIX_STORE_DIR (else NIX_STORE) for the store dir, NIX_STATE_DIR for the
 * state dir, NIX_DAEMON_SOCKET_PATH for a daemon's socket. Empty values count
 * as unset, as in Nix.
 */
export type NixEnv = Readonly<Record<string, string | undefined>>;

/** Nix's compiled-in defaults (NIX_STORE_DIR, NIX_STATE_DIR of a standard build). */
export const NIX_DEFAULT_STORE_DIR = '/nix/store';
export const NIX_DEFAULT_STATE_DIR = '/nix/var/nix';

/**
 * The layout of the local-overlay store `url` describes: merged store dir
 * (`real`, or ROOT/nix/store, else the store dir: Nix's default for `real`
 * ignores `store` when `root` is set), state dir (`state`, or ROOT/nix/var/nix,
 * else the default state dir), upper DB (STATE/db/db.sqlite), upper layer,
 * check-mount, remount-hook, and the lower store's layout.
 *
 * Pure: defaults come from `env` (pass `process.env` to follow the caller's
 * environment; omitted, Nix's compiled-in defaults apply). Throws
 * StoreLayoutError STORE_LAYOUT_NOT_OVERLAY when `url` is not a local-overlay
 * store, STORE_LAYOUT_BAD_ENV when NIX_STORE_DIR/NIX_STORE/NIX_STATE_DIR is set
 * but not absolute.
 */
export function resolveStoreLayout(url: ParsedStoreUrl, env: NixEnv = {}): StoreLayout {
  if (url.kind !== 'local-overlay') {
    throw new StoreLayoutError(
      'STORE_LAYOUT_NOT_OVERLAY',
      `store URL '${url.url}' is a ${url.kind} store, not a local-overlay store; overlay-warden supervises local-overlay stores only`,
      {
        evidence: { url: url.url, kind: url.kind, expected: 'local-overlay' },
        hint: 'use a local-overlay://?lower-store=…&upper-layer=… URL (the lower store can be this one)',
      },
    );
  }
  const dirs = localFsDirs(url, env);
  const stateDir = dirs.stateDir ?? nixDefaults(env).stateDir;
  return Object.freeze({
    url: url.url,
    storeDir: dirs.storeDir,
    mergedStoreDir: dirs.realStoreDir,
    stateDir,
    upperDb: dbOf(stateDir),
    upperLayer: url.upperLayer,
    lower: resolveLowerStoreLayout(url.lowerStore, env),
    checkMount: url.checkMount,
    remountHook: url.remountHook,
  });
}

/**
 * The layout of a store used as a lower store, for any parsed kind. Its DB is
 * STATE/db/db.sqlite for local and auto stores (for auto, where Nix's local
 * store keeps it; a daemon on the same machine serves those same files in a
 * standard setup), the upper DB for a stacked overlay, and for a daemon only
 * when `root` or `state` says where its state is (else undefined, as is its
 * state dir). Pure; throws what `resolveStoreLayout` throws for a bad `env`.
 */
export function resolveLowerStoreLayout(url: ParsedStoreUrl, env: NixEnv = {}): LowerStoreLayout {
  const dirs = localFsDirs(url, env);
  const stateDir = dirs.stateDir ?? (url.kind === 'daemon' ? undefined : nixDefaults(env).stateDir);
  return Object.freeze({
    url: url.url,
    kind: url.kind,
    storeDir: dirs.storeDir,
    realStoreDir: dirs.realStoreDir,
    stateDir,
    db: stateDir === undefined ? undefined : dbOf(stateDir),
    readOnly: url.kind === 'daemon' ? false : url.readOnly,
    daemonSocket: url.kind === 'daemon' ? daemonSocketOf(url.socket, stateDir, env) : undefined,
  });
}

/**
 * Nix's LocalFSStoreConfig defaults: real = `real`, else ROOT/nix/store, else
 * the store dir; state = `state`, else ROOT/nix/var/nix, else undefined (the
 * caller picks the default, which differs for a daemon).
 */
function localFsDirs(url: ParsedStoreUrl, env: NixEnv): { storeDir: string; realStoreDir: string; stateDir: string | undefined } {
  const storeDir = url.storeDir ?? nixDefaults(env).storeDir;
  return {
    storeDir,
    realStoreDir: url.real ?? (url.root === undefined ? storeDir : joinCanonPath(url.root, 'nix', 'store')),
    stateDir: url.state ?? (url.root === undefined ? undefined : joinCanonPath(url.root, 'nix', 'var', 'nix')),
  };
}

/** Nix's daemon socket: the URL's, else NIX_DAEMON_SOCKET_PATH (non-empty, canonical), else STATE/daemon-socket/socket. */
function daemonSocketOf(socket: string | undefined, stateDir: string | undefined, env: NixEnv): string {
  if (socket !== undefined) return socket;
  const fromEnv = env['NIX_DAEMON_SOCKET_PATH'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const path = canonAbsolutePath(fromEnv);
    if (path === undefined) {
      throw new StoreLayoutError('STORE_LAYOUT_BAD_ENV', `environment variable NIX_DAEMON_SOCKET_PATH='${fromEnv}' is not an absolute path`, {
        evidence: { variable: 'NIX_DAEMON_SOCKET_PATH', value: fromEnv, expected: 'an absolute path' },
        hint: 'unset NIX_DAEMON_SOCKET_PATH or set it to an absolute path, or name the socket in the store URL (unix:///path/to/socket)',
      });
    }
    return path;
  }
  return joinCanonPath(stateDir ?? nixDefaults(env).stateDir, 'daemon-socket', 'socket');
}

function dbOf(stateDir: string): string {
  return joinCanonPath(stateDir, 'db', 'db.sqlite');
}

/** The default store and state dirs for `env`, canonical, as Nix computes them (non-empty variables only). */
export function nixDefaults(env: NixEnv): { storeDir: string; stateDir: string } {
  const pick = (...names: string[]): [string, string] | undefined => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== '') return [name, value];
    }
    return undefined;
  };
  const absolute = (found: [string, string] | undefined, fallback: string): string => {
    if (found === undefined) return fallback;
    const path = canonAbsolutePath(found[1]);
    if (path === undefined) {
      throw new StoreLayoutError('STORE_LAYOUT_BAD_ENV', `environment variable ${found[0]}='${found[1]}' is not an absolute path`, {
        evidence: { variable: found[0], value: found[1], expected: 'an absolute path' },
        hint: `unset ${found[0]} or set it to an absolute path`,
      });
    }
    return path;
  };
  return { storeDir: absolute(pick('NIX_STORE_DIR', 'NIX_STORE'), NIX_DEFAULT_STORE_DIR), stateDir: absolute(pick('NIX_STATE_DIR'), NIX_DEFAULT_STATE_DIR) };
}
