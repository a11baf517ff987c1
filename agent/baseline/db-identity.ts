/** The identity of the lower Nix DB (file, WAL, ValidPaths counters, what the file holds), and how two identities differ. */
import fs from 'node:fs';
import { errnoCode } from '../errors/index.ts';
import { inspectNixDbFile, NIX_DB_CONTENTS, type NixDbContent } from '../store/index.ts';

/**
 * What tells a lower DB apart from another and from its own earlier state, cheaply: two stats and one indexed query.
 * Big numbers (inode, nanoseconds) are decimal strings so the identity survives JSON exactly.
 */
export interface LowerDbIdentity {
  /** The DB file. */
  readonly file: string;
  /** st_dev: compared only while running (device numbers may change across reboots, e.g. a Qubes template volume). */
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  /** Size of `db.sqlite-wal`, 0 when absent (SQLite treats both alike). */
  readonly walSize: number;
  /** mtime of a non-empty WAL, else null. */
  readonly walMtimeNs: string | null;
  /**
   * `count(*)` and `max(id)` of ValidPaths as the main DB file holds them (opened `immutable=1`, so frames still in the
   * WAL are not counted: the WAL's size and mtime cover those), or null when the DB could not be queried.
   */
  readonly validPaths: { readonly count: number; readonly maxId: number } | null;
  /**
   * What the file holds: a `nix-db`, or what it is instead (`empty`, `not-sqlite`, `wrong-schema`, `unreadable`), so a
   * replaced DB is reported as what replaced it. Absent in baselines saved before it was recorded.
   */
  readonly content?: NixDbContent;
}

/** `unchanged`; `replaced` (another file: new inode); `modified` (same file, other contents); `appeared`; `vanished`. */
export type DbIdentityChange = 'unchanged' | 'replaced' | 'modified' | 'appeared' | 'vanished';

/**
 * How `after` differs from `before`. Pure. `scope` `restart` ignores st_dev (a reboot may renumber devices);
 * `live` compares it too. A missing WAL equals an empty one; ValidPaths counters are compared only when both sides
 * have them.
 */
export function compareDbIdentity(before: LowerDbIdentity | null, after: LowerDbIdentity | null, scope: 'live' | 'restart'): DbIdentityChange {
  if (before === null) return after === null ? 'unchanged' : 'appeared';
  if (after === null) return 'vanished';
  if (before.ino !== after.ino || (scope === 'live' && before.dev !== after.dev)) return 'replaced';
  const countsDiffer =
    before.validPaths !== null &&
    after.validPaths !== null &&
    (before.validPaths.count !== after.validPaths.count || before.validPaths.maxId !== after.validPaths.maxId);
  if (
    before.size !== after.size ||
    before.mtimeNs !== after.mtimeNs ||
    before.walSize !== after.walSize ||
    before.walMtimeNs !== after.walMtimeNs ||
    countsDiffer
  )
    return 'modified';
  return 'unchanged';
}

/**
 * Reads the identity of the Nix DB `file`, or null when it does not exist. The DB is opened with SQLite's
 * `immutable=1` whatever the store's `read-only` setting: no locks, and no `-wal`/`-shm` files created in the lower
 * store's state dir (a plain read-only open would create them). Any other stat error throws it (errno in `code`);
 * a DB that cannot be queried yields `validPaths: null` and the `content` it has instead of a Nix DB, rather than an
 * error, since the stats still identify it.
 */
export function readLowerDbIdentity(file: string): LowerDbIdentity | null {
  let stats: fs.BigIntStats;
  try {
    stats = fs.statSync(file, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
  let wal: fs.BigIntStats | undefined;
  try {
    wal = fs.statSync(`${file}-wal`, { bigint: true });
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  const walSize = wal === undefined ? 0 : Number(wal.size);
  return {
    file,
    dev: String(stats.dev),
    ino: String(stats.ino),
    size: Number(stats.size),
    mtimeNs: String(stats.mtimeNs),
    walSize,
    walMtimeNs: wal !== undefined && walSize > 0 ? String(wal.mtimeNs) : null,
    ...inspectNixDbFile(file),
  };
}

/** True when `value` has the shape of a LowerDbIdentity (for reading it back from a state file). */
export function isLowerDbIdentity(value: unknown): value is LowerDbIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const counters = v['validPaths'];
  return (
    typeof v['file'] === 'string' &&
    typeof v['dev'] === 'string' &&
    typeof v['ino'] === 'string' &&
    typeof v['size'] === 'number' &&
    typeof v['mtimeNs'] === 'string' &&
    typeof v['walSize'] === 'number' &&
    (v['walMtimeNs'] === null || typeof v['walMtimeNs'] === 'string') &&
    (v['content'] === undefined || (NIX_DB_CONTENTS as readonly unknown[]).includes(v['content'])) &&
    (counters === null ||
      (typeof counters === 'object' &&
        typeof (counters as Record<string, unknown>)['count'] === 'number' &&
        typeof (counters as Record<string, unknown>)['maxId'] === 'number'))
  );
}
