import assert from 'node:assert/strict';
import { decideNixCheckMount, nixVerdictFor } from '../../agent/checks/nix-check-mount-verdict.ts';
import { factsOf, fixtureFacts, fixtureUrl, ids, layoutOf } from './literal-facts.ts';

const ROOT = '1 0 254:0 / / rw - ext4 /dev/vda rw';
const line = (lowerdir: string): string => `20 1 0:40 / /x/m/nix/store rw,relatime - overlay overlay rw,lowerdir=${lowerdir},upperdir=/x/upper,workdir=/x/work`;
const URL = 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper';

describe('check mount.nix-check-mount (pure)', () => {
  it('mount.nix-check-mount-refuses (error) when check-mount is on and Nix would refuse the mount', () => {
    const facts = factsOf(`${ROOT}\n${line('/x/lower/nix/store:/x/modules')}\n`, URL);
    const layout = layoutOf(URL);
    const found = decideNixCheckMount(facts, layout, nixVerdictFor(facts, layout));
    assert.deepEqual(ids(found), ['mount.nix-check-mount-refuses']);
    assert.equal(found[0]?.severity, 'error');
    assert.equal(found[0]?.evidence['lowerdirMatched'], false);
    assert.equal(found[0]?.evidence['upperdirMatched'], true);
    assert.match(found[0]?.message ?? '', /mounted incorrectly/);
    assert.equal(found[0]?.evidence['mountAsConfigured'], true);
    assert.match(found[0]?.hint ?? '', /check-mount=false/);
  });

  it('when the mount is not the one the URL describes, the hint sends to that fault and keeps check-mount on', () => {
    const typo = 'local-overlay://?root=/x/m&lower-store=/x/lowr&upper-layer=/x/upper';
    const facts = factsOf(`${ROOT}\n${line('/x/lower/nix/store')}\n`, typo);
    const [f] = decideNixCheckMount(facts, layoutOf(typo), nixVerdictFor(facts, layoutOf(typo)));
    assert.equal(f?.id, 'mount.nix-check-mount-refuses');
    assert.equal(f?.evidence['mountAsConfigured'], false);
    assert.deepEqual(f?.evidence['mountErrors'], ['mount.lower-missing']);
    assert.doesNotMatch(f?.hint ?? '', /check-mount=false/);
    assert.match(f?.hint ?? '', /fix the store URL \(`lower-store`\) or the mount first, as the mount.lower-missing finding says/);
  });

  it('nothing when check-mount is off, when Nix accepts, or when nothing is mounted', () => {
    const three = `${ROOT}\n${line('/x/lower/nix/store:/x/modules')}\n`;
    const off = `${URL}&check-mount=false`;
    assert.deepEqual(decideNixCheckMount(factsOf(three, off), layoutOf(off), nixVerdictFor(factsOf(three, off), layoutOf(off))), []);
    const one = factsOf(`${ROOT}\n${line('/x/lower/nix/store')}\n`, URL);
    assert.equal(nixVerdictFor(one, layoutOf(URL))?.accepted, true);
    assert.deepEqual(decideNixCheckMount(one, layoutOf(URL), nixVerdictFor(one, layoutOf(URL))), []);
    const none = factsOf(`${ROOT}\n`, URL);
    assert.deepEqual(decideNixCheckMount(none, layoutOf(URL), nixVerdictFor(none, layoutOf(URL))), []);
  });

  it('for a captured relative mount, names both options Nix cannot match', () => {
    const url = fixtureUrl('relative-lowerdir');
    const facts = fixtureFacts('relative-lowerdir', url);
    const [f] = decideNixCheckMount(facts, layoutOf(url), nixVerdictFor(facts, layoutOf(url)));
    assert.deepEqual([f?.evidence['lowerdirMatched'], f?.evidence['upperdirMatched']], [false, false]);
  });
});
