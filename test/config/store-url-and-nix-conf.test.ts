/** `store.url` and `store.nixConf` in one store section: an error naming both, never a silent choice of one. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../agent/config/index.ts';

const URL = 'local-overlay://?root=/merged&lower-store=%2Flower&upper-layer=/upper';

describe('config: store.url and store.nixConf together', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ow-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused, naming both keys with their lines and values', () => {
    const nixConf = join(dir, 'nix.conf');
    writeFileSync(nixConf, 'store = local-overlay://?root=/elsewhere&lower-store=%2Fl&upper-layer=/u\n');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `store:\n  url: "${URL}"\n  nixConf: ${nixConf}\n`);
    let error: unknown;
    try {
      loadConfig({ flags: { config: file }, env: {}, trustAnyFile: true });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.deepEqual(
      error.problems.map((p) => [p.key, p.value, p.source]),
      [
        ['store.url', URL, `${file}:2`],
        ['store.nixConf', nixConf, `${file}:3`],
      ],
    );
    assert.match(error.message, /only one of store\.url and store\.nixConf.*checks\.nixConf/);
  });

  it("either alone is fine, and a flag still replaces the file's whole store section", () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `store:\n  url: "${URL}"\n`);
    assert.equal(loadConfig({ flags: { config: file }, env: {}, trustAnyFile: true }).layout.upperLayer, '/upper');
    const other = 'local-overlay://?root=/m2&lower-store=%2Fl2&upper-layer=/u2';
    assert.equal(loadConfig({ flags: { config: file, store: other }, env: {}, trustAnyFile: true }).layout.upperLayer, '/u2');
  });
});
