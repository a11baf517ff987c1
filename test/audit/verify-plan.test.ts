import assert from 'node:assert/strict';
import { AuditError } from '../../agent/audit/audit-error.ts';
import type { VerifyItem } from '../../agent/audit/find-corrupt.ts';
import type { OverlayEntryKind } from '../../agent/mount/overlay-entry.ts';
import { planPaths, planScope, type NarRow, type PathRequest, type VerifyPlan } from '../../agent/audit/verify-plan.ts';
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

/** `label@layer: db=<hash byte>/<size> …`, after checking that the item names that label's path and file in that layer. */
function summary(item: VerifyItem): string {
  const label = item.path.slice(`${STORE}/`.length).replace(/^[^-]*-/, '');
  assert.equal(item.path, pathOf(label));
  assert.equal(item.file, `${LAYER_DIR[item.layer]}/${nameOf(label)}`);
  for (const e of item.expected) assert.equal(e.dbFile, e.db === 'upper' ? UPPER_DB : LOWER_DB);
  const expected = item.expected.map((e) => `${e.db}=${e.narHash.toString('hex', 0, 1)}/${e.narSize}`);
  return `${label}@${item.layer}:${expected.map((e) => ` ${e}`).join('')}`;
}

/** The plan as literals: item summaries, the labels of vanished paths (with why), and the totals. */
function described(plan: VerifyPlan) {
  return {
    items: [...plan.items].map(summary),
    findings: plan.findings.map((f) => [f.id, f.evidence['problem'], f.evidence['why'], f.evidence['path']]),
    total: plan.total,
    totalBytes: plan.totalBytes,
  };
}

const vanishedUnderWhiteout = (label: string) => ['store.corrupt', 'vanished', 'whiteout', pathOf(label)];

describe('audit/verify-plan (pure)', () => {
  describe('planScope', () => {
    const cases: ReadonlyArray<{
      name: string;
      upperDb?: LiteralRow[];
      lowerDb?: LiteralRow[];
      upperLayer: Record<string, OverlayEntryKind>;
      /** The lower DB's rows as read again while hashing; default: lowerDb's. */
      lowerRows?: NarRow[];
      expected: ReturnType<typeof described>;
    }> = [
      {
        name: 'upper: an upper copy is hashed in the upper layer, a missing one in the lower, a whiteout is vanished and not hashed',
        upperDb: [
          { label: 'a', hash: 1, size: 10 },
          { label: 'b', hash: 2, size: 20 },
          { label: 'c', hash: 3, size: 30 },
        ],
        upperLayer: { a: 'directory', c: 'device-whiteout' },
        expected: { items: ['a@upper: upper=01/10', 'b@lower: upper=02/20'], findings: [vanishedUnderWhiteout('c')], total: 2, totalBytes: 30 },
      },
      {
        name: 'lower: every lower row in the lower layer against the lower DB, whatever the upper layer holds',
        lowerDb: [
          { label: 'x', hash: 4, size: 40 },
          { label: 'y', hash: 5, size: 50 },
        ],
        upperLayer: { x: 'directory', y: 'xattr-whiteout' },
        expected: { items: ['x@lower: lower=04/40', 'y@lower: lower=05/50'], findings: [], total: 2, totalBytes: 90 },
      },
      {
        name: 'all: a path both DBs register is one item against both when only the lower copy exists, two items when the upper has one',
        upperDb: [
          { label: 's', hash: 6, size: 60 },
          { label: 't', hash: 7, size: 70 },
        ],
        lowerDb: [
          { label: 's', hash: 6, size: 60 },
          { label: 't', hash: 8, size: 80 },
        ],
        upperLayer: { t: 'file' },
        expected: { items: ['s@lower: lower=06/60 upper=06/60', 't@lower: lower=08/80', 't@upper: upper=07/70'], findings: [], total: 3, totalBytes: 210 },
      },
      {
        name: 'all: a whiteout over a path both register: the lower copy against the lower DB only, the upper registration vanished',
        upperDb: [{ label: 'w', hash: 9, size: 90 }],
        lowerDb: [{ label: 'w', hash: 9, size: 90 }],
        upperLayer: { w: 'device-whiteout' },
        expected: { items: ['w@lower: lower=09/90'], findings: [vanishedUnderWhiteout('w')], total: 1, totalBytes: 90 },
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
        assert.deepEqual(described(planScope({ places, upperListing: listingOf(c.upperLayer), upper, lower, lowerRows })), c.expected);
      });
    }

    it('reads the lower rows only as the items are pulled, and counts without them', () => {
      let reads = 0;
      const rows = [narRow({ label: 'x', size: 40 })];
      const lowerRows = { [Symbol.iterator]: () => (reads++, rows[Symbol.iterator]()) };
      const plan = planScope({ places, upperListing: listingOf({}), upper: undefined, lower: literalDbIndex([{ label: 'x', size: 40 }], LOWER_DB), lowerRows });
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
        name: 'registered in the upper DB, with an upper copy: that copy against the upper DB',
        requests: [request('a', a(1, 10))],
        upperLayer: { a: 'directory' },
        expected: { items: ['a@upper: upper=01/10'], findings: [], total: 1, totalBytes: 10 },
      },
      {
        name: 'registered in both, with an upper copy: each copy against its own DB',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: { a: 'symlink' },
        expected: { items: ['a@upper: upper=01/10', 'a@lower: lower=02/20'], findings: [], total: 2, totalBytes: 30 },
      },
      {
        name: 'registered in both, no upper copy: the lower copy against both DBs',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: {},
        expected: { items: ['a@lower: upper=01/10 lower=02/20'], findings: [], total: 1, totalBytes: 10 },
      },
      {
        name: 'registered in both, hidden by a whiteout: the upper registration vanished, the lower copy against the lower DB',
        requests: [request('a', a(1, 10), a(2, 20))],
        upperLayer: { a: 'device-whiteout' },
        expected: { items: ['a@lower: lower=02/20'], findings: [vanishedUnderWhiteout('a')], total: 1, totalBytes: 20 },
      },
      {
        name: 'registered in the lower DB only, under a whiteout: the lower copy, and no finding (the upper DB claims nothing)',
        requests: [request('a', undefined, a(2, 20))],
        upperLayer: { a: 'device-whiteout' },
        expected: { items: ['a@lower: lower=02/20'], findings: [], total: 1, totalBytes: 20 },
      },
      {
        name: 'several paths, in the order given',
        requests: [request('b', undefined, narRow({ label: 'b', hash: 3, size: 5 })), request('a', a(1, 10))],
        upperLayer: { a: 'directory' },
        expected: { items: ['b@lower: lower=03/5', 'a@upper: upper=01/10'], findings: [], total: 2, totalBytes: 15 },
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
