import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, readTokenFile, type ConfigSources } from '../../agent/config/index.ts';
import { requireRoot } from '../support/requirements.ts';

const REPLIT = 'local-overlay?lower-store=%2Fmnt%2Fcacache%3Fread-only%3Dtrue&upper-layer=/mnt/nix/store&check-mount=false';

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ow-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string, mode = 0o644): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    chmodSync(file, mode);
    return file;
  };
  const load = (sources: Partial<ConfigSources>) => loadConfig({ flags: {}, env: {}, ...sources });
  const configError = (fn: () => unknown): ConfigError => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected a ConfigError');
  };
  /** The message's lines after its first, one per problem, sorted. */
  const problemLines = (error: ConfigError): string[] =>
    error.message
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .sort();

  it('resolves the store layout from --store with every default applied', () => {
    const config = load({ flags: { store: REPLIT } });
    assert.equal(config.layout.mergedStoreDir, '/nix/store');
    assert.equal(config.layout.upperLayer, '/mnt/nix/store');
    assert.equal(config.layout.lower.realStoreDir, '/mnt/cacache/nix/store');
    assert.equal(config.layout.lower.readOnly, true);
    assert.equal(config.layout.checkMount, false);
    assert.equal(config.stateDir, '/var/lib/overlay-warden');
    assert.equal(config.remount.attempts, 3);
    assert.equal(config.storeSource, 'store.url (--store)');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.remount));
  });

  it('reads the store from a nix.conf and says which line', () => {
    const conf = write('nix.conf', `# comment\nexperimental-features = local-overlay-store\nstore = ${REPLIT}\n`);
    const config = load({ flags: { nixConf: conf } });
    assert.equal(config.layout.upperLayer, '/mnt/nix/store');
    assert.equal(config.storeSource, `${conf}:3`);
  });

  it('lets single store keys override the URL from a nix.conf', () => {
    const conf = write('nix.conf', `store = ${REPLIT}\n`);
    const file = write('c.yaml', `store:\n  nixConf: ${conf}\n  upperLayer: /rw/nix/store\n  root: /merged\n`);
    const config = load({ flags: { config: file } });
    assert.equal(config.layout.upperLayer, '/rw/nix/store');
    assert.equal(config.layout.mergedStoreDir, '/merged/nix/store');
    assert.equal(config.layout.upperDb, '/merged/nix/var/nix/db/db.sqlite');
    assert.equal(config.layout.lower.realStoreDir, '/mnt/cacache/nix/store');
  });

  it('builds the store from single keys alone (no url, no nix.conf), and from a nix.conf without a store line', () => {
    const file = write('keys.yaml', `store:\n  upperLayer: /rw/upper\n  lowerStore: /template?read-only=true\n  root: /merged\n`);
    const config = load({ flags: { config: file } });
    assert.deepEqual(
      [config.layout.upperLayer, config.layout.mergedStoreDir, config.layout.lower.realStoreDir, config.layout.lower.readOnly],
      ['/rw/upper', '/merged/nix/store', '/template/nix/store', true],
    );
    assert.equal(config.storeSource, 'store settings with root, upper-layer, lower-store from the configuration');
    const bare = write('bare.conf', 'substituters =\n');
    const fromConf = write('conf-keys.yaml', `store:\n  nixConf: ${bare}\n  upperLayer: /rw/upper\n`);
    assert.equal(load({ flags: { config: fromConf } }).layout.upperLayer, '/rw/upper');
  });

  it('applies file < environment < flags', () => {
    const file = write('c.yaml', `store:\n  url: "${REPLIT}"\nstateDir: /from/file\nlog:\n  level: debug\n`);
    const env = { OVERLAY_WARDEN_STATE_DIR: '/from/env', OVERLAY_WARDEN_LOG_LEVEL: 'warn' };
    const config = load({ flags: { config: file, stateDir: '/from/flag' }, env });
    assert.equal(config.stateDir, '/from/flag');
    assert.equal(config.log.level, 'warn');
    assert.equal(load({ flags: { config: file }, env }).stateDir, '/from/env');
    assert.equal(load({ flags: { config: file } }).stateDir, '/from/file');
  });

  it('replaces the whole store section when --store is given', () => {
    const file = write('c.yaml', `store:\n  nixConf: /nonexistent/nix.conf\n  upperLayer: /x\n`);
    const config = load({ flags: { config: file, store: 'local-overlay://?upper-layer=/u&lower-store=/l' } });
    assert.equal(config.layout.upperLayer, '/u');
    assert.equal(config.layout.lower.realStoreDir, '/l/nix/store');
  });

  it('names every bad key with its value, the expectation and the line', () => {
    const file = write(
      'c.yaml',
      `store:\n  url: "${REPLIT}"\nremount:\n  attempts: 0\n  timeoutSeconds: soon\nhttp:\n  address: "not an address"\nstateDri: /x\n`,
    );
    const error = configError(() => load({ flags: { config: file } }));
    assert.equal(error.code, 'CONFIG_INVALID');
    const byKey = new Map(error.problems.map((p) => [p.key, p]));
    assert.deepEqual([...byKey.keys()].sort(), ['http.address', 'remount.attempts', 'remount.timeoutSeconds', 'stateDri']);
    assert.equal(byKey.get('remount.attempts')!.value, 0);
    assert.equal(byKey.get('remount.attempts')!.source, `${file}:4`);
    assert.equal(byKey.get('remount.timeoutSeconds')!.value, 'soon');
    assert.match(byKey.get('remount.timeoutSeconds')!.expected, /number/);
    assert.equal(byKey.get('http.address')!.source, `${file}:7`);
    assert.match(byKey.get('http.address')!.expected, /host:port/);
    assert.equal(byKey.get('stateDri')!.source, `${file}:8`);
    assert.match(error.message, /remount\.attempts .*got 0/);
  });

  it('words each problem as a sentence: the key, where it was set, what it takes, what it got', () => {
    const file = write(
      'c.yaml',
      `store:\n  url: "${REPLIT}"\nremount:\n  timeoutSeconds: abc\n  atempts: 3\nlog:\n  level: loud\nchecks: 5\npool:\n  size: 300\n`,
    );
    const error = configError(() => load({ flags: { config: file } }));
    assert.deepEqual(problemLines(error), [
      `checks (${file}:8): expected a section (indented \`key: value\` lines), got 5`,
      `log.level (${file}:7): expected one of "error", "warn", "info", "debug", got "loud"`,
      `pool.size (${file}:10): expected "auto" or a whole number from 1 to 256, got 300`,
      `remount.atempts (${file}:5): no such setting (did you mean remount.attempts?); expected one of the keys command, timeoutSeconds, attempts, backoffSeconds, coalesceMs`,
      `remount.timeoutSeconds (${file}:4): expected a number, got "abc"`,
    ]);
    assert.deepEqual(
      error.problems.filter((p) => p.unknownKey === true).map((p) => [p.key, p.value]),
      [['remount.atempts', 3]],
    );
  });

  it('asks "did you mean" for a misspelt key or value, and for a key in the wrong section; words YAML values JSON has no words for', () => {
    const file = write(
      'c.yaml',
      `store:\n  url: "${REPLIT}"\n  uperLayer: /u\nupperLayer: /u\nlog:\n  level: warning\nremount:\n  timeoutSeconds: .inf\n  backoffSeconds: .nan\npool:\nworkers: 2\n`,
    );
    const error = configError(() => load({ flags: { config: file } }));
    assert.deepEqual(problemLines(error), [
      `log.level (${file}:6): expected one of "error", "warn", "info", "debug", got "warning" (did you mean "warn"?)`,
      `pool (${file}:10): expected a section (indented \`key: value\` lines), got an empty value`,
      `remount.backoffSeconds (${file}:9): expected a number, got .nan`,
      `remount.timeoutSeconds (${file}:8): expected a number, got .inf`,
      `store.uperLayer (${file}:3): no such setting (did you mean store.upperLayer?); expected one of the keys url, nixConf, root, real, state, upperLayer, lowerStore, checkMount, remountHook`,
      `upperLayer (${file}:4): no such setting (did you mean store.upperLayer?); expected one of the keys store, stateDir, mountinfo, checks, mount, remount, watch, pool, http, alerts, schedule, control, log`,
      `workers (${file}:11): no such setting; expected one of the keys store, stateDir, mountinfo, checks, mount, remount, watch, pool, http, alerts, schedule, control, log`,
    ]);
    assert.deepEqual(Object.fromEntries(error.problems.filter((p) => (p.suggestions ?? []).length > 0).map((p) => [p.key, p.suggestions])), {
      'store.uperLayer': ['store.upperLayer'],
      'log.level': ['warn'],
      upperLayer: ['store.upperLayer'],
    });
  });

  it('takes checks.disable as a list of check ids, and names an unknown id with the known ones', () => {
    const good = write('good.yaml', `store:\n  url: "${REPLIT}"\nchecks:\n  disable: [mount.nix-conf]\n`);
    assert.deepEqual(load({ flags: { config: good } }).checks.disable, ['mount.nix-conf']);
    assert.deepEqual(load({ flags: { store: REPLIT } }).checks.disable, []);
    const bad = write('bad.yaml', `store:\n  url: "${REPLIT}"\nchecks:\n  disable: [mount.nix-conf, mount.nixconf]\n`);
    const error = configError(() => load({ flags: { config: bad } }));
    assert.deepEqual(
      error.problems.map((p) => [p.key, p.value, p.source]),
      [['checks.disable.1', 'mount.nixconf', `${bad}:4`]],
    );
    assert.match(error.problems[0]!.expected, /mount\.nix-conf/);
    assert.deepEqual(error.problems[0]!.suggestions, ['mount.nix-conf']);
  });

  it('names the environment variable a bad value came from', () => {
    const error = configError(() => load({ flags: { store: REPLIT }, env: { OVERLAY_WARDEN_LOG_LEVEL: 'loud' } }));
    assert.deepEqual(
      error.problems.map((p) => [p.key, p.value, p.source]),
      [['log.level', 'loud', 'env OVERLAY_WARDEN_LOG_LEVEL']],
    );
    assert.match(error.message, /log\.level \(env OVERLAY_WARDEN_LOG_LEVEL\): expected one of "error", "warn", "info", "debug", got "loud"/);
  });

  it('reports YAML syntax errors with the line', () => {
    const file = write('c.yaml', `store:\n  url: x\n  bad: [unclosed\n`);
    const error = configError(() => load({ flags: { config: file } }));
    assert.equal(error.code, 'CONFIG_SYNTAX');
    assert.match(error.message, new RegExp(`${file}:\\d+`));
  });

  it('refuses a config file others can write', () => {
    const file = write('c.yaml', `store:\n  url: "${REPLIT}"\n`, 0o666);
    const error = configError(() => load({ flags: { config: file } }));
    assert.equal(error.code, 'CONFIG_INSECURE');
    assert.match(error.message, /writable by group or others/);
  });

  it('refuses a config file root owns in a directory another user owns: they could swap it', function () {
    requireRoot(this);
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'theirs'));
    chownSync(join(dir, 'theirs'), 65534, 65534);
    const file = write('theirs/c.yaml', `store:\n  url: "${REPLIT}"\n`);
    const error = configError(() => load({ flags: { config: file } }));
    assert.equal(error.code, 'CONFIG_INSECURE');
    assert.equal(
      error.message,
      `refusing configuration file ${file}: the directory ${join(dir, 'theirs')} is owned by uid 65534, not by root or the agent's user (uid 0)`,
    );
    assert.deepEqual([error.evidence['at'], error.evidence['role']], [join(dir, 'theirs'), 'ancestor']);
  });

  it('checks http.tokenFile when set: it must exist and be readable and writable by root alone; readTokenFile reads it', function () {
    requireRoot(this);
    const withToken = (token: string): string => write('t.yaml', `store:\n  url: "${REPLIT}"\nhttp:\n  tokenFile: ${token}\n`);
    assert.equal(configError(() => load({ flags: { config: withToken(join(dir, 'none')) } })).code, 'CONFIG_NOT_FOUND');
    const token = write('token', ' s3cret\n', 0o644);
    const open = configError(() => load({ flags: { config: withToken(token) } }));
    assert.equal(open.code, 'CONFIG_INSECURE');
    assert.match(open.message, /readable by group or others \(mode 0644\)/);
    chmodSync(token, 0o600);
    assert.equal(load({ flags: { config: withToken(token) } }).http.tokenFile, token);
    assert.equal(readTokenFile(token), 's3cret');
    assert.equal(configError(() => readTokenFile(write('empty', '\n', 0o600))).code, 'CONFIG_INVALID');
  });

  it('says when an explicit config file is missing, and uses defaults when the default one is', () => {
    assert.equal(configError(() => load({ flags: { config: join(dir, 'none.yaml') } })).code, 'CONFIG_NOT_FOUND');
    assert.equal(load({ flags: { store: REPLIT }, defaultFile: join(dir, 'none.yaml') }).file, undefined);
  });

  it('says when nothing describes a store', () => {
    const conf = write('nix.conf', 'substituters = https://cache.nixos.org\n');
    const error = configError(() => load({ flags: { nixConf: conf } }));
    assert.equal(error.code, 'CONFIG_NO_STORE');
    assert.match(error.message, /no `store =` setting/);
  });

  it('wraps a bad store URL, keeping the store error code and naming where it came from', () => {
    const error = configError(() => load({ flags: { store: 'local-overlay://?upper-layer=/u&colour=blue' } }));
    assert.equal(error.code, 'CONFIG_STORE');
    assert.match(error.message, /--store/);
    assert.match(error.message, /colour/);
    assert.equal(typeof error.evidence['storeError'], 'string');
  });

  it('accepts every key of the shipped example configuration', () => {
    const config = load({ flags: { config: new URL('../../config/overlay-warden.example.yaml', import.meta.url).pathname }, trustAnyFile: true });
    assert.equal(config.layout.upperLayer, '/mnt/nix/store');
  });
});
