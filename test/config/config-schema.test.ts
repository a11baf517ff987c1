import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../agent/config/index.ts';

const STORE = 'local-overlay://?lower-store=%2Flower&upper-layer=/upper';

describe('config schema: keys of the mount check schedule and NUL bytes', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ow-config-schema-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Loads `yaml` as a config file (JSON is YAML, so `\0` escapes work as in double-quoted YAML). */
  const load = (yaml: string): Config => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, yaml);
    return loadConfig({ flags: { config: file }, env: {}, trustAnyFile: true });
  };
  const problemsOf = (yaml: string): ConfigError => {
    try {
      load(yaml);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    }
    assert.fail('expected a ConfigError');
  };

  it('re-runs the mount check every 60 s by default; checks.intervalSeconds changes it within 1 s to a day', () => {
    assert.equal(load(`store: {url: "${STORE}"}\n`).checks.intervalSeconds, 60);
    assert.equal(load(`store: {url: "${STORE}"}\nchecks: {intervalSeconds: 5}\n`).checks.intervalSeconds, 5);
    for (const bad of ['0', '0.5', '86401', '"60s"']) {
      const error = problemsOf(`store: {url: "${STORE}"}\nchecks: {intervalSeconds: ${bad}}\n`);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.deepEqual(
        error.problems.map((p) => p.key),
        ['checks.intervalSeconds'],
      );
    }
  });

  it('refuses a NUL byte in a path or a remount command argument, naming the key', () => {
    const error = problemsOf(
      `store: {url: "${STORE}", remountHook: "/hooks/nix\\0evil"}\nstateDir: "/var/lib/ow\\0/x"\nremount: {command: ["/bin/remount", "--x\\0y"]}\n`,
    );
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.deepEqual(
      error.problems.map((p) => [p.key, p.expected, p.value]),
      [
        ['store.remountHook', 'an absolute path without a NUL byte', '/hooks/nix\0evil'],
        ['stateDir', 'an absolute path without a NUL byte', '/var/lib/ow\0/x'],
        ['remount.command.1', 'text without a NUL byte', '--x\0y'],
      ],
    );
  });

  it('refuses a NUL byte in the store URL, written or as %00, with the store URL error code', () => {
    for (const url of [`${STORE}&real=/m%00x`, `${STORE}\\0`]) {
      const error = problemsOf(`store: {url: "${url}"}\n`);
      assert.equal(error.code, 'CONFIG_STORE');
      assert.equal((error.cause as { code?: string }).code, 'STORE_URL_NUL_BYTE');
    }
    const lower = problemsOf(`store: {url: "${STORE}", lowerStore: "/lower\\0"}\n`);
    assert.equal((lower.cause as { code?: string }).code, 'STORE_URL_NUL_BYTE');
  });

  it('takes an absolute path without a NUL as before, and still names a relative one', () => {
    assert.equal(load(`store: {url: "${STORE}"}\nstateDir: /var/lib/x\n`).stateDir, '/var/lib/x');
    assert.deepEqual(
      problemsOf(`store: {url: "${STORE}"}\nstateDir: relative\n`).problems.map((p) => [p.key, p.expected]),
      [['stateDir', 'an absolute path']],
    );
  });
});
