import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEXICAL_VIEW } from '../../agent/checks/layer-paths.ts';
import { expectedLayout, gatherMountFacts, readOverlayModuleDefaults } from '../../agent/checks/mount-facts.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { FIXTURE_DIR } from '../mount/fixtures.ts';
import { factsOf, fixtureFacts, fixtureUrl, fx, layoutOf } from './literal-facts.ts';

describe('mount facts', () => {
  it('finds the overlay under a stack, what is above it, and its layers (captured)', () => {
    const facts = fixtureFacts('stacked', fixtureUrl('stacked'));
    assert.equal(facts.visible?.mountId, 68);
    assert.deepEqual(
      facts.stack.map((e) => e.mountId),
      [65, 67, 68],
    );
    assert.equal(facts.overlay?.mountId, 65);
    assert.deepEqual(
      facts.above.map((e) => e.mountId),
      [67, 68],
    );
    assert.deepEqual(
      facts.lowers.map((l) => l.path),
      [`${fx('stacked')}/lower/nix/store`],
    );
    assert.equal(facts.upper?.path, `${fx('stacked')}/upper/store`);
  });

  it('maps the layers of a bind-mounted subdirectory of an overlay to the same subdirectory', () => {
    const text =
      '1 0 254:0 / / rw - ext4 /dev/vda rw\n20 1 0:40 /nix/store /x/m/nix/store rw - overlay overlay rw,lowerdir=/x/lower,upperdir=/x/upper,workdir=/x/work\n';
    const facts = factsOf(text, 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper/nix/store');
    assert.deepEqual(
      facts.lowers.map((l) => l.path),
      ['/x/lower/nix/store'],
    );
    assert.equal(facts.upper?.path, '/x/upper/nix/store');
    assert.equal(facts.work?.path, '/x/work');
  });

  it('names the setting that decides each expected path', () => {
    const e = expectedLayout(layoutOf('local-overlay://?root=/r&lower-store=/l&upper-layer=/u/./x/'), LEXICAL_VIEW);
    assert.deepEqual([e.merged.setting, e.merged.path], ['root', '/r/nix/store']);
    assert.deepEqual([e.lowerStoreDir.setting, e.lowerStoreDir.path], ['lower-store', '/l/nix/store']);
    assert.deepEqual([e.upperLayer.setting, e.upperLayer.path], ['upper-layer', '/u/x']);
    assert.equal(expectedLayout(layoutOf('local-overlay://?lower-store=/l&upper-layer=/u'), LEXICAL_VIEW).merged.setting, 'store');
  });

  describe('gathering', () => {
    let dir = '';
    before(() => {
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-facts-')));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the configured mountinfo file; a saved table gets no kernel defaults', async () => {
      const config = loadConfig({ flags: { store: fixtureUrl('three-lowerdirs'), mountinfo: path.join(FIXTURE_DIR, 'three-lowerdirs.txt') }, env: {} });
      const facts = await gatherMountFacts(config);
      assert.equal(facts.status, 'read');
      assert.equal(facts.status === 'read' && facts.overlay?.mountId, 68);
      assert.equal(facts.status === 'read' && facts.moduleDefaults, undefined);
    });

    it('turns an unreadable table into facts that say so, never a rejection', async () => {
      const config = loadConfig({ flags: { store: fixtureUrl('x'), mountinfo: path.join(dir, 'missing') }, env: {} });
      const facts = await gatherMountFacts(config);
      assert.equal(facts.status, 'unreadable');
      assert.equal(facts.status === 'unreadable' && facts.error.errno, 'ENOENT');
    });

    it('resolves a symlinked configured path with realpath', async () => {
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync('real', path.join(dir, 'link'));
      const config = loadConfig({
        flags: { store: `local-overlay://?root=/r&lower-store=/l&upper-layer=${dir}/link`, mountinfo: path.join(FIXTURE_DIR, 'stacked.txt') },
        env: {},
      });
      const facts = await gatherMountFacts(config);
      assert.deepEqual([facts.expected.upperLayer.path, facts.expected.upperLayer.how], [`${dir}/real`, 'realpath']);
    });

    it('reads the overlay module defaults as Y/N flags, undefined when absent', () => {
      fs.mkdirSync(path.join(dir, 'params'));
      fs.writeFileSync(path.join(dir, 'params/index'), 'Y\n');
      fs.writeFileSync(path.join(dir, 'params/metacopy'), 'N\n');
      assert.deepEqual(readOverlayModuleDefaults(path.join(dir, 'params')), {
        index: true,
        metacopy: false,
        redirectDir: undefined,
        source: path.join(dir, 'params'),
      });
    });
  });
});
