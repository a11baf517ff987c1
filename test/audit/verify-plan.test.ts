import assert from 'node:assert/strict';
import { AuditError } from '../../agent/audit/audit-error.ts';
import type { Expectation, VerifyItem } from '../../agent/audit/find-corrupt.ts';
import type { OverlayEntryKind } from '../../agent/mount/overlay-entry.ts';
import { planPaths, type PathRequest } from '../../agent/audit/verify-plan-paths.ts';
import { idsToLookUp, planScope, type NarRow, type Registrations, type VerifyPlan } from '../../agent/audit/verify-plan.ts';
import type { LayerListing } from '../../agent/audit/layer-listing.ts';
import { literalDbIndex, literalListing, nameOf, pathOf, STORE, type LiteralRow } from './support/literal-facts.ts';

const UPPER_DB = '/state/db/db.sqlite';
const LOWER_DB = '/lower/nix/var/nix/db/db.sqlite';
const places = { storeDir: STORE, upperLayer: '/upper', lower: { realStoreDir: '/lower/nix/store' } };
const LAYER_DIR = { upper: places.upperLayer, lower: places.lower.realStoreDir };

/** A DB row as the reader returns it: the narHash is the literal's byte repeated, in the DB's `sha256:<hex>` form. */
function narRow(row: LiteralRow): NarRow {
  return { path: pathOf(row.label), narHash: `sha256:${Buffer.alloc(32, row.hash ?? 1).toString('hex')}`, narSize: row.size ?? 0 };
}

function listingOf(upperLayer: Readonly<Record<string, OverlayEntryKind>>) {
  return literalListing(places.upperLayer, Object.entries(upperLayer), true);
}

/** What run-verify looks up for the ids idsToLookUp names: each DB's row of that entry's path. */
function registrationsOf(ids: readonly number[], listing: LayerListing, upperDb: readonly LiteralRow[], lowerDb: readonly LiteralRow[]) {
  const rowOf = (rows: readonly LiteralRow[], name: string) => {
    const row = rows.find((r) => nameOf(r.label) === name);
    return row === undefined ? undefined : narRow(row);
  };
  const registrations = new Map<number, Registrations>();
  for (const id of ids) {
    const name = listing.names!.get(id);
    registrations.set(id, { upper: rowOf(upperDb, name), lower: rowOf(lowerDb, name) });
  }
  return registrations;
}

const expectations = (list: readonly Expectation[]) => {
  for (const e of list) assert.equal(e.dbFile, e.db === 'upper' ? UPPER_DB : LOWER_DB);
  return list.map((e) => ` ${e.db}=${e.narHash.toString('hex', 0, 1)}/${e.narSize}`).join('');
};

/** `label@layer: db=<hash byte>/<size> … [| lower copy: db=…]`, after checking that the item names that label's path and files. */
function summary(item: VerifyItem): string {
  const label = item.path.slice(`${STORE}/`.length).replace(/^[^-]*-/, '');
  assert.equal(item.path, pathOf(label));
  assert.equal(item.file, `${LAYER_DIR[item.layer]}/${nameOf(label)}`);
  assert.equal(item.lowerCopy !== undefined, item.layer === 'upper', 'an upper copy, and only one, comes with the lower copy under it');
  if (item.lowerCopy !== undefined) assert.equal(item.lowerCopy.file, `${LAYER_DIR.lower}/${nameOf(label)}`);
  const lower = item.lowerCopy === undefined ? '' : ` | lower copy:${expectations(item.lowerCopy.expected)}`;
  return `${label}@${item.layer}:${expectations(item.expected)}${lower}`;
}

/** The plan as literals: item summaries, the findings (id, path, which DBs register it), and the totals. */
function described(plan: VerifyPlan) {
  return {
    items: [...plan.items].map(summary),
    findings: plan.findings.map((f) => [f.id, f.evidence['path'], f.evidence['registeredInUpperDb'], f.evidence['registeredInLowerDb']]),
    total: plan.total,
    totalBytes: plan.totalBytes,
  };
}

/** A store.masked finding: the path, whether the upper DB and whether the lower DB register it. */
const masked = (label: string, upper: boolean, lower: boolean) => ['store.masked', pathOf(label), upper, lower];

describe('audit/verify-plan (pure)', () => {
  describe('planScope', () => {
    const cases: ReadonlyArray<{
      name: string;
      upperDb?: LiteralRow[];
      lowerDb?: LiteralRow[];
      /** The DBs as they are, for the lookups (each by default what the scope reads of it). */
      registered?: { upper?: LiteralRow[]; lower?: LiteralRow[] };
      upperLayer: Record<string, OverlayEntryKind>;
      /** The lower DB's rows as read again while hashing; default: lowerDb's. */
      lowerRows?: NarRow[];
      expected: ReturnType<typeof described>;
    }> = [
      {
        name: 'upper: an upper copy is served from the upper layer (the lower copy under it hashed too), a missing one from the lower; a whiteout is masked',
        upperDb: [
          { label: 'a', hash: 1, size: 10 },
          { label: 'b', hash: 2, size: 20 },
          { label: 'c', hash: 3, size: 30 },
        ],
        upperLayer: { a: 'directory', c: 'device-whiteout' },
        expected: { items: ['a@upper: upper=01/10 | lower copy:', 'b@lower: upper=02/20'], findings: [masked('c', true, false)], total: 2, totalBytes: 30 },
      },
      {
        name: 'upper: an upper-layer copy of a path only the lower DB registers is judged against the lower DB; a whiteout over one is masked; strays are not',
        upperDb: [{ label: 'a', hash: 1, size: 10 }],
        registered: {
          upper: [{ label: 'a', hash: 1, size: 10 }],
          lower: [
            { label: 'k', hash: 4, size: 40 },
            { label: 'h', hash: 5, size: 50 },
          ],
        },
        upperLayer: { k: 'file', h: 'xattr-whiteout', stray: 'directory' },
        expected: { items: ['a@lower: upper=01/10', 'k@upper: lower=04/40 | lower copy:'], findings: [masked('h', false, true)], total: 2, totalBytes: 50 },
      },
      {
        name: 'lower: an upper copy is served instead of the lower one, and the lower copy is judged against the lower DB; one the upper DB registers is left to it',
        lowerDb: [
          { label: 'x', hash: 4, size: 40 },
          { label: 'y', hash: 5, size: 50 },
          { label: 'z', hash: 6, size: 60 },
          { label: 'w', hash: 7, size: 70 },
        ],
        registered: { upper: [{ label: 'z', hash: 9, size: 90 }] },
        upperLayer: { x: 'directory', y: 'xattr-whiteout', z: 'file' },
        expected: {
          items: ['x@upper: lower=04/40 | lower copy: lower=04/40', 'z@upper: | lower copy: lower=06/60', 'w@lower: lower=07/70'],
          findings: [masked('y', false, true)],
          total: 3,
          totalBytes: 170,
        },
      },
      {
        name: 'all: a path both DBs register is one item: the lower copy against both, or the upper copy against the upper DB and the lower copy against the lower',
        upperDb: [
          { label: 's', hash: 6, size: 60 },
          { label: 't', hash: 7, size: 70 },
        ],
        lowerDb: [
          { label: 's', hash: 6, size: 60 },
          { label: 't', hash: 8, size: 80 },
        ],
        upperLayer: { t: 'file' },
        expected: { items: ['s@lower: lower=06/60 upper=06/60', 't@upper: upper=07/70 | lower copy: lower=08/80'], findings: [], total: 2, totalBytes: 140 },
      },
      {
        name: 'all: a whiteout over a path both register is one masked finding, nothing to hash',
        upperDb: [{ label: 'w', hash: 9, size: 90 }],
        lowerDb: [{ label: 'w', hash: 9, size: 90 }],
        upperLayer: { w: 'device-whiteout' },
        expected: { items: [], findings: [masked('w', true, true)], total: 0, totalBytes: 0 },
      },
      {
        name: 'all: an upper-only path with an upper copy, and a lower-only path with one',
        upperDb: [{ label: 'u', hash: 1, size: 10 }],
        lowerDb: [{ label: 'l', hash: 2, size: 20 }],
        upperLayer: { u: 'directory', l: 'symlink' },
        expected: { items: ['l@upper: lower=02/20 | lower copy: lower=02/20', 'u@upper: upper=01/10 | lower copy:'], findings: [], total: 2, totalBytes: 30 },
      },
      {
        name: 'lower rows the index lacks (registered after it was read, or not a store path) are left out; an unreadable narHash expects nothing',
        lowerDb: [
          { label: 'x', hash: 4, size: 40 },
          { label: 'y', hash: 5, size: 50 },
        ],
        upperLayer: {},
        lowerRows: [
          narRow({ label: 'x', hash: 4, size: 40 }),
          { path: pathOf('late'), narHash: narRow({ label: 'late' }).narHash, narSize: 1 },
          { path: '/elsewhere/store/x', narHash: narRow({ label: 'x' }).narHash, narSize: 1 },
          { path: pathOf('y'), narHash: 'md5:not-a-nar-hash', narSize: 50 },
        ],
        expected: { items: ['x@lower: lower=04/40', 'y@lower:'], findings: [], total: 2, totalBytes: 90 },
      },
      {
        name: 'empty DBs: nothing to hash',
        upperDb: [],
        lowerDb: [],
        upperLayer: { a: 'directory' },
        expected: { items: [], findings: [], total: 0, totalBytes: 0 },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const upper = c.upperDb === undefined ? undefined : literalDbIndex(c.upperDb, UPPER_DB);
        const lower = c.lowerDb === undefined ? undefined : literalDbIndex(c.lowerDb, LOWER_DB);
        const lowerRows = c.lowerRows ?? (c.lowerDb ?? []).map(narRow);
        const upperListing = listingOf(c.upperLayer);
        const dbs = { upper: c.registered?.upper ?? c.upperDb ?? [], lower: c.registered?.lower ?? c.lowerDb ?? [] };
        const registrations = registrationsOf(idsToLookUp(upperListing, upper, lower), upperListing, dbs.upper, dbs.lower);
        const dbFiles = { upper: UPPER_DB, lower: LOWER_DB };
        assert.deepEqual(described(planScope({ places, upperListing, upper, lower, lowerRows, registrations, dbFiles })), c.expected);
      });
    }

    it('reads the lower rows only as the items are pulled, and counts without them', () => {
      let reads = 0;
      const rows = [narRow({ label: 'x', size: 40 })];
      const lowerRows = { [Symbol.iterator]: () => (reads++, rows[Symbol.iterator]()) };
      const lower = literalDbIndex([{ label: 'x', size: 40 }], LOWER_DB);
      const dbFiles = { upper: UPPER_DB, lower: LOWER_DB };
      const plan = planScope({ places, upperListing: listingOf({}), upper: undefined, lower, lowerRows, registrations: new Map(), dbFiles });
      assert.deepEqual([plan.total, plan.totalBytes, reads], [1, 40, 0]);
      assert.deepEqual([...plan.items].map(summary), ['x@lower: lower=01/40']);
      assert.equal(reads, 1);
    });
  });

  describe('planPaths', () => {
    const a = (hash: number, size: number) => narRow({ label: 'a', hash, size });
    const request = (label: string, upper?: NarRow, lower?: NarRow): PathRequest => ({ baseName: nameOf(label), upper, lower });
    const cases: ReadonlyArray<{
      name: string;
      requests: PathRequest[];
      upperLayer: Record<string, OverlayEntryKind>;
      expected: ReturnType<typeof described>;
    }> = [
      {
        name: 'registered in the upper DB, with an upper copy: that copy against the upper DB, the lower copy hashed beside it',
        requests: [request('a', a(1, 10))],
        upperLayer: { a: 'directory' },
        expected: { items: ['a@upper: upper=01/10 | lower copy:'], findings: [], total: 1, totalBytes: 10 },
      },
      {
        name: 'registered in both, with an upper copy: the served upper copy against the upper DB, the lower copy against the lower DB',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: { a: 'symlink' },
        expected: { items: ['a@upper: upper=01/10 | lower copy: lower=02/20'], findings: [], total: 1, totalBytes: 10 },
      },
      {
        name: 'registered in the lower DB only, with an upper copy (a copy-up): the served upper copy against the lower DB, and the lower copy',
        requests: [request('a', undefined, a(2, 20))],
        upperLayer: { a: 'file' },
        expected: { items: ['a@upper: lower=02/20 | lower copy: lower=02/20'], findings: [], total: 1, totalBytes: 20 },
      },
      {
        name: 'registered in both, no upper copy: the lower copy against both DBs',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: {},
        expected: { items: ['a@lower: upper=01/10 lower=02/20'], findings: [], total: 1, totalBytes: 10 },
      },
      {
        name: 'registered in both, hidden by a whiteout: masked, nothing hashed',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: { a: 'device-whiteout' },
        expected: { items: [], findings: [masked('a', true, true)], total: 0, totalBytes: 0 },
      },
      {
        name: 'registered in the lower DB only, under a whiteout: masked too (the merged view shows nothing there)',
        requests: [request('a', undefined, a(2, 20))],
        upperLayer: { a: 'xattr-whiteout' },
        expected: { items: [], findings: [masked('a', false, true)], total: 0, totalBytes: 0 },
      },
      {
        name: 'several paths, in the order given',
        requests: [request('b', undefined, narRow({ label: 'b', hash: 3, size: 5 })), request('a', a(1, 10))],
        upperLayer: { a: 'directory' },
        expected: { items: ['b@lower: lower=03/5', 'a@upper: upper=01/10 | lower copy:'], findings: [], total: 2, totalBytes: 15 },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        assert.deepEqual(described(planPaths(c.requests, { places, upperListing: listingOf(c.upperLayer), upperDb: UPPER_DB, lowerDb: LOWER_DB })), c.expected);
      });
    }

    it('a path registered in neither DB is AUDIT_UNKNOWN_PATH, thrown before later paths are read', () => {
      function* requests(): Generator<PathRequest> {
        yield request('a', a(1, 10));
        yield request('nowhere');
        assert.fail('read past the unknown path');
      }
      assert.throws(
        () => planPaths(requests(), { places, upperListing: listingOf({}), upperDb: UPPER_DB, lowerDb: LOWER_DB }),
        (error: unknown) => {
          assert.ok(error instanceof AuditError);
          assert.equal(error.code, 'AUDIT_UNKNOWN_PATH');
          assert.deepEqual(error.evidence, { path: pathOf('nowhere'), upperDb: UPPER_DB, lowerDb: LOWER_DB });
          return true;
        },
      );
    });
  });
});
