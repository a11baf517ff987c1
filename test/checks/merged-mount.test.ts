import assert from 'node:assert/strict';
import { LEXICAL_VIEW } from '../../agent/checks/layer-paths.ts';
import { decideMergedMount } from '../../agent/checks/merged-mount.ts';
import { unreadableMountFacts } from '../../agent/checks/mount-facts.ts';
import { factsOf, fixtureFacts, fixtureUrl, fx, ids, layoutOf } from './literal-facts.ts';

const ROOT = '1 0 254:0 / / rw,relatime - ext4 /dev/vda rw';
const OVERLAY = '20 1 0:40 / /x/m/nix/store rw,relatime - overlay overlay rw,lowerdir=/x/lower/nix/store,upperdir=/x/upper,workdir=/x/work';
const URL = 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper';
const lines = (...l: string[]): string => `${l.join('\n')}\n`;

describe('check mount.merged (pure)', () => {
  it('finds nothing wrong with an overlay alone at the merged store dir', () => {
    assert.deepEqual(decideMergedMount(factsOf(lines(ROOT, OVERLAY), URL)), []);
  });

  it('mount.mountinfo-unreadable when the table cannot be read', () => {
    const error = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
    const [f, ...rest] = decideMergedMount(unreadableMountFacts('/nope/mountinfo', layoutOf(URL), LEXICAL_VIEW, error));
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.mountinfo-unreadable');
    assert.equal(f?.severity, 'error');
    assert.deepEqual(f?.evidence, { mountinfoFile: '/nope/mountinfo', errno: 'ENOENT' });
    assert.match(f?.hint ?? '', /--mountinfo/);
  });

  it('mount.mountinfo-malformed (warning) for skipped lines, and still reads the rest', () => {
    const found = decideMergedMount(factsOf(lines(ROOT, 'not a mountinfo line', OVERLAY), URL));
    assert.deepEqual(ids(found), ['mount.mountinfo-malformed']);
    assert.equal(found[0]?.severity, 'warning');
    assert.deepEqual(found[0]?.evidence['malformedLines'], [{ lineNumber: 2, problem: 'too-few-fields', line: 'not a mountinfo line' }]);
  });

  it('mount.not-mounted naming `root` for a plain directory, with the containing mount as evidence', () => {
    const [f] = decideMergedMount(factsOf(lines(ROOT), URL));
    assert.equal(f?.id, 'mount.not-mounted');
    assert.equal(f?.severity, 'error');
    assert.equal(f?.evidence['setting'], 'root');
    assert.equal(f?.evidence['expected'], '/x/m/nix/store');
    assert.equal(f?.evidence['containingMount'], ROOT);
    assert.match(f?.message ?? '', /plain directory on the ext4 mount at \//);
    assert.match(f?.hint ?? '', /mount -t overlay overlay -o lowerdir=\/x\/lower\/nix\/store,upperdir=\/x\/upper,workdir=DIR \/x\/m\/nix\/store/);
  });

  it('mount.not-mounted naming `real`, and where an overlay with the configured layers is mounted instead', () => {
    const [f] = decideMergedMount(factsOf(lines(ROOT, OVERLAY), 'local-overlay://?real=/elsewhere/store&lower-store=/x/lower&upper-layer=/x/upper'));
    assert.equal(f?.id, 'mount.not-mounted');
    assert.equal(f?.evidence['setting'], 'real');
    assert.deepEqual(f?.evidence['overlaysWithTheseLayers'], [OVERLAY]);
    assert.match(f?.message ?? '', /mounted at \/x\/m\/nix\/store instead/);
    assert.match(f?.hint ?? '', /set the store URL's `real` so the merged store dir is \/x\/m\/nix\/store/);
  });

  it('mount.not-mounted when an overlay is there but a mount over an ancestor hides it', () => {
    const cover = '21 1 0:41 / /x/m rw,relatime - tmpfs cover rw';
    const [f, ...rest] = decideMergedMount(factsOf(lines(ROOT, OVERLAY, cover), URL));
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.not-mounted');
    assert.deepEqual(f?.evidence['hiddenMounts'], [OVERLAY]);
    assert.equal(f?.evidence['containingMount'], cover);
    assert.match(f?.message ?? '', /an overlay is mounted there, but the tmpfs mount at \/x\/m covers it/);
  });

  it('mount.not-overlay for another filesystem at the merged store dir', () => {
    const tmpfs = '20 1 0:40 / /x/m/nix/store rw,relatime - tmpfs store-fs rw';
    const [f] = decideMergedMount(factsOf(lines(ROOT, tmpfs), URL));
    assert.equal(f?.id, 'mount.not-overlay');
    assert.equal(f?.evidence['actual'], 'tmpfs');
    assert.equal(f?.evidence['mountinfo'], tmpfs);
  });

  it('mount.stacked for the captured stack (tmpfs, then a bind mount, on the overlay)', () => {
    const facts = fixtureFacts('stacked', fixtureUrl('stacked'));
    const [f, ...rest] = decideMergedMount(facts);
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.stacked');
    assert.equal(f?.severity, 'error');
    assert.equal((f?.evidence['stackedMounts'] as string[]).length, 2);
    assert.match(String(f?.evidence['mountinfo']), /^68 67 254:0 \/tmp\/owfx\/stacked\/elsewhere /);
    assert.match(String(f?.evidence['overlay']), /^65 43 0:39 /);
    assert.match(f?.message ?? '', /2 mounts are stacked on the overlay/);
  });

  it('mount.options-unreadable for overlay options no kernel prints', () => {
    const bad = '20 1 0:40 / /x/m/nix/store rw,relatime - overlay overlay rw,lowerdir=/x/lower/nix/store:,upperdir=/x/upper,workdir=/x/work';
    const [f] = decideMergedMount(factsOf(lines(ROOT, bad), URL));
    assert.equal(f?.id, 'mount.options-unreadable');
    assert.equal(f?.evidence['code'], 'OVERLAY_LOWERDIR_MALFORMED');
  });

  it('mount.relative-layer-paths (info): the captured relative mount, resolved from the inferred working directory', () => {
    const b = fx('relative-lowerdir');
    const [f, ...rest] = decideMergedMount(fixtureFacts('relative-lowerdir', fixtureUrl('relative-lowerdir')));
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.relative-layer-paths');
    assert.equal(f?.severity, 'info');
    assert.equal(f?.evidence['mounterCwd'], b);
    assert.deepEqual(
      (f?.evidence['relativePaths'] as Array<{ resolved: string }>).map((p) => p.resolved),
      [`${b}/lower/nix/store`, `${b}/modules/nix/store`, `${b}/base/nix/store`, `${b}/upper/store`, `${b}/upper/work`],
    );
  });

  it('mount.relative-layer-paths says when no working directory can be inferred', () => {
    const [f] = decideMergedMount(fixtureFacts('relative-lowerdir', fixtureUrl('relative-lowerdir', { lower: '/srv/other', upper: '/srv/up' })));
    assert.equal(f?.evidence['mounterCwd'], null);
    assert.ok((f?.evidence['relativePaths'] as Array<{ how: string }>).every((p) => p.how === 'relative-unresolved'));
  });
});
