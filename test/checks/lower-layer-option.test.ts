import assert from 'node:assert/strict';
import { decideLowerLayers } from '../../agent/checks/lower-layer-option.ts';
import { percentEncode } from '../../agent/store/index.ts';
import { factsOf, fixtureFacts, fixtureUrl, fx, ids } from './literal-facts.ts';

type Layer = { position: number; path: string; dataOnly: boolean; option: string };

describe('check mount.lower (pure)', () => {
  it('lists the extra layers (info) when the lower store is the first of three (captured)', () => {
    const b = fx('three-lowerdirs');
    const found = decideLowerLayers(fixtureFacts('three-lowerdirs', fixtureUrl('three-lowerdirs')));
    assert.deepEqual(ids(found), ['mount.extra-lower-layers']);
    assert.equal(found[0]?.severity, 'info');
    assert.deepEqual(
      (found[0]?.evidence['extraLayers'] as Layer[]).map((l) => [l.position, l.path]),
      [
        [2, `${b}/modules/nix/store`],
        [3, `${b}/base/nix/store`],
      ],
    );
  });

  it("reads Replit's line (nouserxattr, from another kernel) the same way", () => {
    const line =
      '80 70 0:90 / /nix/store rw,relatime - overlay overlay rw,lowerdir=/mnt/cacache/nix/store:/mnt/nixmodules/nix/store:/nix/store,upperdir=/mnt/nix/store,workdir=/mnt/nix/work/store,xino=off,nouserxattr';
    const url = `local-overlay?lower-store=${percentEncode('/mnt/cacache?read-only=true')}&upper-layer=/mnt/nix/store&check-mount=false`;
    const found = decideLowerLayers(factsOf(`70 70 254:0 / / rw - ext4 /dev/vda rw\n${line}\n`, url));
    assert.deepEqual(ids(found), ['mount.extra-lower-layers']);
    assert.deepEqual(
      (found[0]?.evidence['extraLayers'] as Layer[]).map((l) => l.path),
      ['/mnt/nixmodules/nix/store', '/nix/store'],
    );
  });

  it('mount.lower-not-first (warning) naming the layer above it (captured)', () => {
    const b = fx('lower-second');
    const found = decideLowerLayers(fixtureFacts('lower-second', fixtureUrl('lower-second')));
    assert.deepEqual(ids(found), ['mount.lower-not-first', 'mount.extra-lower-layers']);
    assert.equal(found[0]?.severity, 'warning');
    assert.deepEqual(
      (found[0]?.evidence['layersAbove'] as Layer[]).map((l) => l.path),
      [`${b}/extra/nix/store`],
    );
    assert.match(found[0]?.hint ?? '', new RegExp(`lowerdir=${b}/lower/nix/store:${b}/extra/nix/store`));
  });

  it('mount.lower-missing (error) naming `lower-store`, expected and actual', () => {
    const b = fx('three-lowerdirs');
    const [f, ...rest] = decideLowerLayers(fixtureFacts('three-lowerdirs', fixtureUrl('three-lowerdirs', { lower: '/srv/cache' })));
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.lower-missing');
    assert.equal(f?.severity, 'error');
    assert.equal(f?.evidence['setting'], 'lower-store');
    assert.equal(f?.evidence['expected'], '/srv/cache/nix/store');
    assert.deepEqual(f?.evidence['actual'], [`${b}/lower/nix/store`, `${b}/modules/nix/store`, `${b}/base/nix/store`]);
  });

  it('compares after canonicalising: a trailing slash and /./ in the configured lower store still match', () => {
    const b = fx('lower-second');
    const lower = percentEncode(`local?real=${b}/./lower/nix/store/`);
    assert.equal(ids(decideLowerLayers(fixtureFacts('lower-second', fixtureUrl('lower-second', { lower })))).includes('mount.lower-missing'), false);
  });

  it('mount.lower-data-only (error) when the lower store is a data-only layer (captured, ::)', () => {
    const b = fx('data-only-layers');
    const lower = percentEncode(`local?real=${b}/data1`);
    const found = decideLowerLayers(fixtureFacts('data-only-layers', fixtureUrl('data-only-layers', { lower })));
    assert.equal(found[0]?.id, 'mount.lower-data-only');
    assert.equal(found[0]?.severity, 'error');
    assert.deepEqual(found[0]?.evidence['lowerLayer'], {
      position: 3,
      option: 'lowerdir',
      dataOnly: true,
      given: `${b}/data1`,
      path: `${b}/data1`,
      how: 'lexical',
    });
  });

  it('finds the lower store among lowerdir+= layers and lists the datadir+= ones as data-only (captured)', () => {
    const b = fx('lowerdir-plus');
    const found = decideLowerLayers(fixtureFacts('lowerdir-plus', fixtureUrl('lowerdir-plus')));
    assert.deepEqual(ids(found), ['mount.extra-lower-layers']);
    assert.deepEqual(
      (found[0]?.evidence['extraLayers'] as Layer[]).map((l) => [l.option, l.path, l.dataOnly]),
      [
        ['lowerdir+', `${b}/odd:dir name`, false],
        ['datadir+', `${b}/data1`, true],
        ['datadir+', `${b}/data2`, true],
      ],
    );
  });

  it('unescapes the captured escaped paths: the colon dir is found as layer 2', () => {
    const b = fx('escaped-paths');
    const url = `local-overlay://?real=${percentEncode(`${b}/merged dir\\1`)}&lower-store=${percentEncode(`local?real=${b}/col:on`)}&upper-layer=${percentEncode(`${b}/up per,x\\y`)}`;
    const found = decideLowerLayers(fixtureFacts('escaped-paths', url));
    assert.deepEqual(ids(found), ['mount.lower-not-first', 'mount.extra-lower-layers']);
    assert.deepEqual(
      (found[0]?.evidence['layersAbove'] as Layer[]).map((l) => l.path),
      [`${b}/lower with space`],
    );
  });

  it('says nothing without an overlay (mount.merged reports that)', () => {
    assert.deepEqual(decideLowerLayers(factsOf('1 0 254:0 / / rw - ext4 /dev/vda rw\n', fixtureUrl('x'))), []);
  });
});
