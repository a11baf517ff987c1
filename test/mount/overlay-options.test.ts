import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  OverlayOptionsError,
  escapeMountinfoOptionValue,
  formatLowerdir,
  parseOverlayOptions,
  type OverlayLowerLayer,
  type OverlayOptions,
  type OverlayOptionsErrorCode,
} from '../../agent/mount/index.ts';
import { WardenError } from '../../agent/errors/index.ts';
import { FIXTURE_ROOT, entryAt, fixtureMounts } from './fixtures.ts';

const regular = (path: string, option: OverlayLowerLayer['option'] = 'lowerdir'): OverlayLowerLayer => ({ path, dataOnly: false, option });
const data = (path: string, option: OverlayLowerLayer['option'] = 'lowerdir'): OverlayLowerLayer => ({ path, dataOnly: true, option });

/** The options of the overlay mounted at `<fixture dir>/<mountPoint>` in a captured fixture. */
function fixtureOptions(name: string, mountPoint: string): OverlayOptions {
  const entry = entryAt(fixtureMounts(name), `${FIXTURE_ROOT}/${name}/${mountPoint}`);
  assert.equal(entry.fsType, 'overlay');
  const fromList = parseOverlayOptions(entry.superOptions);
  assert.deepEqual(parseOverlayOptions(entry.superOptionsRaw), fromList);
  return fromList;
}

/** Mount-time escaping of one upperdir/workdir path (backslash before `\` and `,`). */
const mounterEscape = (path: string): string => path.replace(/[\\,]/g, (c) => `\\${c}`);

describe('overlay-options', () => {
  describe('captured fixtures (expectations from the mount commands in each NAME.md)', () => {
    it('three lowerdirs, top first, with upper and work', () => {
      const B = `${FIXTURE_ROOT}/three-lowerdirs`;
      const o = fixtureOptions('three-lowerdirs', 'merged/nix/store');
      assert.deepEqual(o.lowerLayers, [regular(`${B}/lower/nix/store`), regular(`${B}/modules/nix/store`), regular(`${B}/base/nix/store`)]);
      assert.equal(o.lowerSyntax, 'lowerdir');
      assert.equal(o.upperdir, `${B}/upper/store`);
      assert.equal(o.workdir, `${B}/upper/work`);
      assert.equal(o.superblockReadOnly, false);
      // xino=off was given but is this kernel's default, so not shown; uuid=on is shown.
      assert.equal(o.xino, undefined);
      assert.equal(o.uuid, 'on');
      assert.deepEqual(o.other, []);
    });

    it('the lower store as second lowerdir', () => {
      const B = `${FIXTURE_ROOT}/lower-second`;
      const o = fixtureOptions('lower-second', 'merged/nix/store');
      assert.deepEqual(
        o.lowerLayers.map((l) => l.path),
        [`${B}/extra/nix/store`, `${B}/lower/nix/store`],
      );
    });

    it('paths with space, colon, backslash, comma, tab and = come back as they are on disk', () => {
      const B = `${FIXTURE_ROOT}/escaped-paths`;
      const o = fixtureOptions('escaped-paths', 'merged dir\\1');
      assert.deepEqual(
        o.lowerLayers.map((l) => l.path),
        [`${B}/lower with space`, `${B}/col:on`, `${B}/back\\slash`, `${B}/com,ma`, `${B}/tab\tx`, `${B}/eq=ual`],
      );
      assert.ok(o.lowerLayers.every((l) => !l.dataOnly && l.option === 'lowerdir'));
      assert.equal(o.upperdir, `${B}/up per,x\\y`);
      assert.equal(o.workdir, `${B}/work`);
    });

    it('relative layer paths stay as the mounter gave them', () => {
      const o = fixtureOptions('relative-lowerdir', 'merged/nix/store');
      assert.deepEqual(
        o.lowerLayers.map((l) => l.path),
        ['lower/nix/store', './modules/nix/store', '../relative-lowerdir/base/nix/store'],
      );
      assert.equal(o.upperdir, 'upper/store');
      assert.equal(o.workdir, 'upper/work');
    });

    it('lowerdir+= and datadir+= layers, one per option, taken literally', () => {
      const B = `${FIXTURE_ROOT}/lowerdir-plus`;
      const o = fixtureOptions('lowerdir-plus', 'merged/nix/store');
      assert.equal(o.lowerSyntax, 'lowerdir+');
      assert.deepEqual(o.lowerLayers, [
        regular(`${B}/lower/nix/store`, 'lowerdir+'),
        regular(`${B}/odd:dir name`, 'lowerdir+'),
        data(`${B}/data1`, 'datadir+'),
        data(`${B}/data2`, 'datadir+'),
      ]);
      assert.equal(o.metacopy, true);
      assert.equal(o.redirectDir, 'on');
      assert.equal(o.upperdir, `${B}/upper/store`);
    });

    it('data-only layers after ::', () => {
      const B = `${FIXTURE_ROOT}/data-only-layers`;
      const o = fixtureOptions('data-only-layers', 'merged/nix/store');
      assert.deepEqual(o.lowerLayers, [regular(`${B}/lower/nix/store`), regular(`${B}/modules/nix/store`), data(`${B}/data1`), data(`${B}/data2`)]);
      assert.equal(o.metacopy, true);
    });

    it('the options that matter to a store, one mount each', () => {
      const o = (m: string): OverlayOptions => fixtureOptions('overlay-options', m);
      assert.deepEqual([o('m-index').index, o('m-index').nfsExport], [true, true]);
      assert.equal(o('m-redirect').redirectDir, 'on');
      // `volatile` at mount time; this kernel shows it as fsync=volatile.
      assert.deepEqual([o('m-volatile').volatile, o('m-volatile').fsync], [true, 'volatile']);
      assert.deepEqual([o('m-strict').volatile, o('m-strict').fsync], [false, 'strict']);
      assert.deepEqual([o('m-userxattr').userxattr, o('m-userxattr').redirectDir], [true, 'nofollow']);
      assert.equal(o('m-xino').xino, 'on');
      assert.equal(o('m-uuid').uuid, 'off');
      assert.equal(o('m-perms').defaultPermissions, true);
      assert.equal(o('m-metacopy').metacopy, true);
      const plain = o('m-perms');
      assert.deepEqual(
        [plain.index, plain.metacopy, plain.volatile, plain.userxattr, plain.xino, plain.fsync],
        [undefined, undefined, false, undefined, undefined, undefined],
      );
    });

    it('read-only overlays', () => {
      assert.equal(fixtureOptions('read-only', 'ro-both').superblockReadOnly, true);
      const lowerOnly = fixtureOptions('read-only', 'lower-only');
      assert.equal(lowerOnly.superblockReadOnly, true);
      assert.equal(lowerOnly.upperdir, undefined);
      assert.equal(lowerOnly.workdir, undefined);
      assert.equal(lowerOnly.lowerLayers.length, 2);
      assert.equal(fixtureOptions('read-only', 'bind-ro').superblockReadOnly, false);
    });

    it('an overlay mounted by an unprivileged user', () => {
      const o = fixtureOptions('unprivileged', 'm');
      assert.deepEqual([o.redirectDir, o.uuid], ['nofollow', 'null']);
    });
  });

  describe('hand-written options', () => {
    it('splits lowerdir at unescaped colons, with \\: a colon and :: data-only layers', () => {
      // Already split and unescaped (MountinfoEntry.superOptions), so the comma is inside the option.
      assert.deepEqual(parseOverlayOptions(['lowerdir=/a\\:b:/c\\\\::/d::/e\\,f']).lowerLayers, [regular('/a:b'), regular('/c\\'), data('/d'), data('/e,f')]);
      // The same, octal-escaped as mountinfo prints it.
      assert.deepEqual(parseOverlayOptions('lowerdir=/a\\134:b:/c\\134\\134::/d::/e\\134\\054f').lowerLayers, [
        regular('/a:b'),
        regular('/c\\'),
        data('/d'),
        data('/e,f'),
      ]);
      // A lone final backslash is dropped, as the kernel does.
      assert.deepEqual(parseOverlayOptions('lowerdir=/a:/b\\').lowerLayers, [regular('/a'), regular('/b')]);
    });

    it("reads Replit's mount (DOMAIN.md), nouserxattr included", () => {
      const o = parseOverlayOptions(
        'rw,relatime,lowerdir=/mnt/cacache/nix/store:/mnt/nixmodules/nix/store:/nix/store,upperdir=/mnt/nix/store,workdir=/mnt/nix/work/store,xino=off,nouserxattr',
      );
      assert.deepEqual(
        o.lowerLayers.map((l) => l.path),
        ['/mnt/cacache/nix/store', '/mnt/nixmodules/nix/store', '/nix/store'],
      );
      assert.deepEqual([o.upperdir, o.workdir, o.xino, o.userxattr], ['/mnt/nix/store', '/mnt/nix/work/store', 'off', false]);
      assert.deepEqual(o.other, [{ key: 'relatime', value: undefined }]);
    });

    it('reads the older volatile flag and keeps unknown options in order', () => {
      const o = parseOverlayOptions('rw,lowerdir=/l,upperdir=/u,workdir=/w,volatile,casefold=on,future_flag,verity=require');
      assert.deepEqual([o.volatile, o.fsync, o.verity], [true, undefined, 'require']);
      assert.deepEqual(o.other, [
        { key: 'casefold', value: 'on' },
        { key: 'future_flag', value: undefined },
      ]);
    });

    it('refuses what the kernel could not have printed, with a typed error naming the option', () => {
      const cases: [string, OverlayOptionsErrorCode, string][] = [
        ['lowerdir=', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir='],
        ['lowerdir=:/a', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=:/a'],
        ['lowerdir=/a:', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=/a:'],
        ['lowerdir=/a::', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=/a::'],
        ['lowerdir=/a:::/b', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=/a:::/b'],
        ['lowerdir=/a::/d:/b', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=/a::/d:/b'],
        ['lowerdir=/a:\\', 'OVERLAY_LOWERDIR_MALFORMED', 'lowerdir=/a:\\'],
        ['lowerdir=/a,lowerdir+=/b', 'OVERLAY_LOWER_LAYERS_MIXED', 'lowerdir+=/b'],
        ['lowerdir+=/b,lowerdir=/a', 'OVERLAY_LOWER_LAYERS_MIXED', 'lowerdir=/a'],
        ['lowerdir+=/a,datadir+=/d,lowerdir+=/b', 'OVERLAY_LOWER_LAYERS_MIXED', 'lowerdir+=/b'],
        ['rw,upperdir=/u,workdir=/w', 'OVERLAY_LOWER_MISSING', 'rw,upperdir=/u,workdir=/w'],
        ['datadir+=/d', 'OVERLAY_LOWER_MISSING', 'datadir+=/d'],
        ['lowerdir+=', 'OVERLAY_OPTION_BAD_VALUE', 'lowerdir+='],
        ['lowerdir=/a,index=maybe', 'OVERLAY_OPTION_BAD_VALUE', 'index=maybe'],
        ['lowerdir=/a,xino', 'OVERLAY_OPTION_BAD_VALUE', 'xino'],
        ['lowerdir=/a,volatile=1', 'OVERLAY_OPTION_BAD_VALUE', 'volatile=1'],
        ['lowerdir=/a,upperdir', 'OVERLAY_OPTION_BAD_VALUE', 'upperdir'],
        ['lowerdir=/a,upperdir=\\', 'OVERLAY_OPTION_BAD_VALUE', 'upperdir=\\'],
        ['lowerdir=/a,upperdir=/u,upperdir=/v', 'OVERLAY_OPTION_DUPLICATE', 'upperdir=/v'],
        ['lowerdir=/a,lowerdir=/b', 'OVERLAY_OPTION_DUPLICATE', 'lowerdir=/b'],
        ['ro,rw,lowerdir=/a', 'OVERLAY_OPTION_DUPLICATE', 'rw'],
      ];
      for (const [options, code, option] of cases) {
        assert.throws(
          () => parseOverlayOptions(options),
          (e: unknown) => {
            assert.ok(e instanceof OverlayOptionsError && e instanceof WardenError, options);
            assert.equal(e.code, code, options);
            assert.equal(e.option, option, options);
            assert.equal(e.evidence['option'], option);
            return true;
          },
        );
      }
    });
  });

  describe('properties', () => {
    const path = fc.string({ unit: fc.constantFrom('/', 'a', ':', '\\', ',', ' ', '=', '\t', '\n', '0', '1'), minLength: 1, maxLength: 12 });
    const layers = fc
      .tuple(fc.array(path, { minLength: 1, maxLength: 5 }), fc.array(path, { maxLength: 3 }))
      .map(([r, d]) => [...r.map((p) => regular(p)), ...d.map((p) => data(p))]);

    it('reads back any layer list formatted with formatLowerdir and printed as the kernel does', () => {
      fc.assert(
        fc.property(layers, path, path, (lower, upper, work) => {
          const printed = ['rw', `lowerdir=${formatLowerdir(lower)}`, `upperdir=${mounterEscape(upper)}`, `workdir=${mounterEscape(work)}`]
            .map(escapeMountinfoOptionValue)
            .join(',');
          const o = parseOverlayOptions(printed);
          assert.deepEqual(o.lowerLayers, lower);
          assert.deepEqual([o.upperdir, o.workdir], [upper, work]);
        }),
        { numRuns: 2000 },
      );
    });

    it('takes lowerdir+= and datadir+= paths literally, colons and backslashes included', () => {
      fc.assert(
        fc.property(fc.array(path, { minLength: 1, maxLength: 4 }), fc.array(path, { maxLength: 3 }), (r, d) => {
          const printed = [...r.map((p) => `lowerdir+=${p}`), ...d.map((p) => `datadir+=${p}`)].map(escapeMountinfoOptionValue).join(',');
          assert.deepEqual(parseOverlayOptions(printed).lowerLayers, [...r.map((p) => regular(p, 'lowerdir+')), ...d.map((p) => data(p, 'datadir+'))]);
        }),
        { numRuns: 1000 },
      );
    });

    it('either parses or throws an OverlayOptionsError, on any input', () => {
      const noisy = fc.string({
        unit: fc.constantFrom(',', ':', '=', '\\', 'lowerdir', 'lowerdir+', 'datadir+', 'upperdir', 'index', 'on', '/a', 'ro', 'rw'),
        maxLength: 20,
      });
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary' }), noisy), (s) => {
          try {
            parseOverlayOptions(s);
          } catch (e) {
            assert.ok(e instanceof OverlayOptionsError, String(e));
          }
        }),
        { numRuns: 1500 },
      );
    });
  });
});
