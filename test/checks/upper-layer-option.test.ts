import assert from 'node:assert/strict';
import { decideUpperLayer } from '../../agent/checks/upper-layer-option.ts';
import { percentEncode } from '../../agent/store/index.ts';
import { factsOf, fixtureFacts, fixtureUrl, fx, ids } from './literal-facts.ts';

describe('check mount.upper (pure)', () => {
  it('finds nothing wrong when upperdir is the upper layer and workdir is on its tmpfs (captured)', () => {
    const facts = fixtureFacts('three-lowerdirs', fixtureUrl('three-lowerdirs'));
    assert.equal(facts.upperFs?.fsType, 'tmpfs');
    assert.equal(facts.workFs?.device, facts.upperFs?.device);
    assert.deepEqual(decideUpperLayer(facts), []);
  });

  it('mount.upper-mismatch (error) naming `upper-layer`, expected and actual', () => {
    const b = fx('three-lowerdirs');
    const [f, ...rest] = decideUpperLayer(fixtureFacts('three-lowerdirs', fixtureUrl('three-lowerdirs', { upper: '/srv/upper' })));
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.upper-mismatch');
    assert.equal(f?.evidence['setting'], 'upper-layer');
    assert.equal(f?.evidence['expected'], '/srv/upper');
    assert.equal(f?.evidence['actual'], `${b}/upper/store`);
  });

  it('matches an upperdir with an escaped comma, space and backslash (captured)', () => {
    const b = fx('escaped-paths');
    const url = `local-overlay://?real=${percentEncode(`${b}/merged dir\\1`)}&lower-store=${percentEncode(`local?real=${b}/col:on`)}&upper-layer=${percentEncode(`${b}/up per,x\\y`)}`;
    assert.deepEqual(decideUpperLayer(fixtureFacts('escaped-paths', url)), []);
  });

  it('mount.upper-mismatch when the overlay has no upperdir at all (captured read-only overlay)', () => {
    const b = fx('read-only');
    const url = `local-overlay://?real=${b}/lower-only&lower-store=${percentEncode(`local?real=${b}/l1`)}&upper-layer=${b}/upper/store`;
    const [f] = decideUpperLayer(fixtureFacts('read-only', url));
    assert.equal(f?.id, 'mount.upper-mismatch');
    assert.equal(f?.evidence['actual'], null);
    assert.match(f?.message ?? '', /no upperdir/);
  });

  it('mount.workdir-other-fs (error) when the table puts workdir on another filesystem', () => {
    const text = [
      '1 0 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '20 1 0:40 / /x/m/nix/store rw,relatime - overlay overlay rw,lowerdir=/x/lower/nix/store,upperdir=/x/upper,workdir=/x/w/work',
      '21 1 0:41 / /x/w rw,relatime - tmpfs later-fs rw',
    ].join('\n');
    const found = decideUpperLayer(factsOf(text, 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper'));
    assert.deepEqual(ids(found), ['mount.workdir-other-fs']);
    assert.equal((found[0]?.evidence['upperFs'] as { device: string }).device, '254:0');
    assert.equal((found[0]?.evidence['workFs'] as { device: string }).device, '0:41');
  });
});
