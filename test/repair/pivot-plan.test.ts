/** planPivot, parseDeadList and toPivotRequest with literal inputs. */
import assert from 'node:assert/strict';
import { ControlError } from '../../agent/control/index.ts';
import {
  decideSpace,
  parseDeadList,
  PivotError,
  planPivot,
  registerCommand,
  SPACE_RESERVE_BYTES,
  toPivotRequest,
  type PivotLocation,
} from '../../agent/repair/index.ts';

const H = (c: string): string => c.repeat(32);
const A = `${H('a')}-a`;
const B = `${H('b')}-b`;
const C = `${H('c')}-c`;
const D = `${H('d')}-d`;
const E = `${H('f')}-e`;

const reg = (baseName: string, narSize = 100): { baseName: string; narHash: string; narSize: number } => ({
  baseName,
  narHash: `sha256:${'0'.repeat(64)}`,
  narSize,
});

describe('planPivot', () => {
  const locations: Record<string, PivotLocation> = { [A]: 'upper', [B]: 'lower', [C]: 'lower', [D]: 'masked', [E]: 'gone' };
  const plan = planPivot({
    registrations: [reg(A), reg(C, 7), reg(B, 5), reg(D), reg(E)],
    vanishes: (name) => name !== A && !name.endsWith('-staying'),
    locate: (name) => locations[name]!,
    // A (upper-built) references B; B references an unregistered vanishing path and a registered one.
    lowerReferences: (name) => (name === B ? [C, `${H('g')}-unregistered`, `${H('h')}-staying`] : undefined),
  });

  it('copies every vanishing registration the lower layer alone serves, whatever references it', () => {
    assert.deepEqual(
      plan.copy.map((r) => r.baseName),
      [B, C],
    );
    assert.equal(plan.copyBytes, 12);
  });

  it('leaves what the upper layer has, whiteouts, and what is gone already; says which', () => {
    assert.deepEqual(plan.inUpper, []);
    assert.deepEqual(plan.masked, [D]);
    assert.deepEqual(plan.gone, [E]);
  });

  it('reports a vanishing path the lower DB says is needed but the upper DB lacks; not one that stays', () => {
    assert.deepEqual(plan.unregistered, [{ baseName: `${H('g')}-unregistered`, neededBy: B }]);
  });

  it('a path that does not vanish is left alone even when only the lower layer has it', () => {
    const none = planPivot({ registrations: [reg(B)], vanishes: () => false, locate: () => 'lower', lowerReferences: () => undefined });
    assert.deepEqual(none.copy, []);
  });

  it('names the Nix command that copies a path’s metadata up through the overlay store, quoting the URL', () => {
    assert.equal(
      registerCommand("local-overlay://?root=/x'y", `/nix/store/${B}`),
      `nix --extra-experimental-features 'nix-command local-overlay-store' path-info --store 'local-overlay://?root=/x'\\''y' /nix/store/${B}`,
    );
  });
});

describe('parseDeadList', () => {
  it('takes full store paths, skipping blank lines and a CRLF', () => {
    assert.deepEqual([...parseDeadList(`/nix/store/${A}\n\n/nix/store/${B}\r\n`, '/nix/store', 'f')], [A, B]);
  });

  it('refuses other store dirs, paths inside objects and bad names, by line number', () => {
    assert.throws(
      () => parseDeadList(`/nix/store/${A}\n/other/${B}\n/nix/store/${A}/bin\n/nix/store/.${H('a')}\n`, '/nix/store', 'dead.txt'),
      (error: unknown) =>
        error instanceof PivotError &&
        error.code === 'PIVOT_BAD_DEAD_LIST' &&
        /^dead\.txt: 3 lines are not a store path of this store \(\/nix\/store\): lines 2, 3, 4;/.test(error.message) &&
        error.evidence['badLineCount'] === 3,
    );
  });

  it('lists at most 10 bad lines, and counts them all', () => {
    const text = Array.from({ length: 25 }, (_, i) => `bad ${i}`).join('\n');
    assert.throws(
      () => parseDeadList(text, '/nix/store', 'f'),
      (error: unknown) => error instanceof PivotError && (error.evidence['badLines'] as unknown[]).length === 10 && error.evidence['badLineCount'] === 25,
    );
  });
});

describe('toPivotRequest', () => {
  const request = (fields: Record<string, unknown>): ReturnType<typeof toPivotRequest> => toPivotRequest({ id: 1, action: 'pivot', ...fields });

  it('reads dead or lowerDb, dryRun and lockTimeoutSeconds, with defaults', () => {
    assert.deepEqual(request({ dead: '/tmp/d' }), { source: { kind: 'dead', file: '/tmp/d' }, dryRun: false, lockTimeoutSeconds: 60 });
    assert.deepEqual(request({ lowerDb: '/x/db.sqlite', dryRun: true, lockTimeoutSeconds: 5 }), {
      source: { kind: 'lower-db', file: '/x/db.sqlite' },
      dryRun: true,
      lockTimeoutSeconds: 5,
    });
  });

  for (const [what, fields] of [
    ['neither source', {}],
    ['both sources', { dead: '/a', lowerDb: '/b' }],
    ['a relative file', { dead: 'dead.txt' }],
    ['a non-boolean dryRun', { dead: '/a', dryRun: 'yes' }],
    ['a negative lock timeout', { dead: '/a', lockTimeoutSeconds: -1 }],
  ] as const) {
    it(`refuses ${what} (CONTROL_BAD_REQUEST)`, () => {
      assert.throws(
        () => request(fields),
        (error: unknown) => error instanceof ControlError && error.code === 'CONTROL_BAD_REQUEST',
      );
    });
  }
});

describe('decideSpace', () => {
  it('fits only with the reserve left over, and with inodes to spare', () => {
    assert.equal(decideSpace(100, 1, 100 + SPACE_RESERVE_BYTES, 1).fits, true);
    assert.equal(decideSpace(101, 1, 100 + SPACE_RESERVE_BYTES, 1).fits, false);
    assert.equal(decideSpace(1, 2, 1e12, 1).fits, false);
  });
});
