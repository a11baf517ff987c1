import assert from 'node:assert/strict';
import { decideMountSummary } from '../../agent/checks/mount-summary.ts';
import { factsOf, fixtureFacts, fixtureUrl, ids } from './literal-facts.ts';

describe('check mount.summary (pure)', () => {
  it('mount.ok (info) for a mount with only informational findings, with the layers as evidence (captured)', () => {
    const [f, ...rest] = decideMountSummary(fixtureFacts('three-lowerdirs', fixtureUrl('three-lowerdirs')), false);
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.ok');
    assert.equal(f?.severity, 'info');
    assert.equal((f?.evidence['lowerLayers'] as string[]).length, 3);
    assert.match(f?.message ?? '', /lower layer 1 of 3/);
  });

  it('no mount.ok with a warning (lower store second), a stacked mount, or another upperdir', () => {
    assert.deepEqual(decideMountSummary(fixtureFacts('lower-second', fixtureUrl('lower-second')), false), []);
    assert.deepEqual(decideMountSummary(fixtureFacts('stacked', fixtureUrl('stacked')), false), []);
    assert.deepEqual(decideMountSummary(fixtureFacts('stacked', fixtureUrl('stacked', { upper: '/elsewhere' })), false), []);
  });

  it('keeps an older overlay hidden under the visible one as evidence', () => {
    const text = [
      '1 0 254:0 / / rw - ext4 /dev/vda rw',
      '20 1 0:40 / /x/m/nix/store rw - overlay overlay rw,lowerdir=/x/old,upperdir=/x/upper,workdir=/x/work',
      '21 20 0:41 / /x/m/nix/store rw - overlay overlay rw,lowerdir=/x/lower/nix/store,upperdir=/x/upper,workdir=/x/work',
    ].join('\n');
    const found = decideMountSummary(factsOf(text, 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper'), false);
    assert.deepEqual(ids(found), ['mount.ok']);
    assert.deepEqual(found[0]?.evidence['hiddenBelow'], [text.split('\n')[1]]);
  });
});
