import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEXICAL_VIEW } from '../../agent/checks/layer-paths.ts';
import { expectedLayout } from '../../agent/checks/mount-facts.ts';
import { decideNixConfAgreement, nixConfAgreementCheck, readNixConfStore } from '../../agent/checks/nix-conf-agreement.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { factsOf, layoutOf } from './literal-facts.ts';

const TABLE =
  '1 0 254:0 / / rw - ext4 /dev/vda rw\n20 1 0:40 / /x/m/nix/store rw - overlay overlay rw,lowerdir=/x/lower/nix/store,upperdir=/x/upper,workdir=/x/work\n';
const GOOD = 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/x/upper';

describe('check mount.nix-conf', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nixconf-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes a nix.conf with `text`, and decides for a configured URL against TABLE. */
  function decide(text: string, configured: string): ReturnType<typeof decideNixConfAgreement> {
    const file = path.join(dir, `nix-${Math.random().toString(36).slice(2)}.conf`);
    fs.writeFileSync(file, text);
    const layout = layoutOf(configured);
    return decideNixConfAgreement(expectedLayout(layout, LEXICAL_VIEW), layout, readNixConfStore(file, {}, LEXICAL_VIEW), factsOf(TABLE, configured));
  }

  it('nothing when nix.conf sets the same store (in another spelling)', () => {
    assert.deepEqual(decide(`# comment\nstore = local-overlay?root=/x/m/&lower-store=%2Fx%2Flower&upper-layer=/x/./upper\n`, GOOD), []);
  });

  it('an error when nix.conf names another upper layer than the one mounted, with the line it came from', () => {
    const [f, ...rest] = decide('store = local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/y/upper\n', GOOD);
    assert.deepEqual(rest, []);
    assert.equal(f?.id, 'mount.nix-conf-mismatch');
    assert.equal(f?.severity, 'error');
    assert.match(String(f?.evidence['nixConf']), /:1$/);
    assert.deepEqual(f?.evidence['differences'], [{ part: 'upper layer', nixConf: '/y/upper', configured: '/x/upper', nixConfMatchesMount: false }]);
  });

  it('a warning when nix.conf agrees with the mount and the configuration is what differs', () => {
    const [f] = decide(`store = ${GOOD}\n`, 'local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/z/upper');
    assert.equal(f?.severity, 'warning');
    assert.equal((f?.evidence['differences'] as Array<{ nixConfMatchesMount: boolean }>)[0]?.nixConfMatchesMount, true);
  });

  it('an error when nix.conf sets no store (Nix uses its default) or one that is not local-overlay', () => {
    const [none] = decide('substituters = https://cache.nixos.org\n', GOOD);
    assert.equal(none?.severity, 'error');
    assert.match(none?.message ?? '', /sets no `store`/);
    const [daemon] = decide('store = daemon\n', GOOD);
    assert.equal(daemon?.evidence['code'], 'STORE_LAYOUT_NOT_OVERLAY');
  });

  it('the check runs only when the configuration names a nix.conf (checks.nixConf beside a store URL)', async () => {
    const nixConf = path.join(dir, 'for-check.conf');
    fs.writeFileSync(nixConf, 'store = local-overlay://?root=/x/m&lower-store=/x/lower&upper-layer=/elsewhere\n');
    const configFile = path.join(dir, 'config.yaml');
    fs.writeFileSync(configFile, `store:\n  url: "${GOOD}"\nchecks:\n  nixConf: ${nixConf}\n`);
    const both = loadConfig({ flags: { config: configFile }, env: {}, trustAnyFile: true });
    const facts = factsOf(TABLE, GOOD);
    const found = await nixConfAgreementCheck.run({ config: both, env: {}, mount: facts }, new AbortController().signal);
    assert.deepEqual(
      found.map((f) => f.id),
      ['mount.nix-conf-mismatch'],
    );
    const urlOnly = loadConfig({ flags: { store: GOOD }, env: {} });
    assert.deepEqual(await nixConfAgreementCheck.run({ config: urlOnly, env: {}, mount: facts }, new AbortController().signal), []);
  });
});
