import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { configSchema } from '../../agent/config/config-schema.ts';
import { defaultSettings, loadConfig } from '../../agent/config/index.ts';
import { simpleSettings } from '../../agent/config/simple-settings.ts';

/** The schema's answer for `raw`: its settings, or undefined when it refuses raw. */
const schemaSettings = (raw: unknown): unknown => {
  const parsed = configSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
};

// The fast path may decline anything, but what it answers must be exactly what the schema answers.
describe('simpleSettings: the configuration settled without the schema', () => {
  it('defaultSettings() is what the schema gives for an empty configuration', () => {
    assert.deepEqual(defaultSettings(), configSchema.parse({}));
    assert.notEqual(defaultSettings().checks, defaultSettings().checks, 'a fresh object each time, as loadConfig freezes it');
  });

  it('settles the shipped default file, --store, --state-dir and --mountinfo as the schema does', () => {
    for (const raw of [
      {},
      { store: { nixConf: '/etc/nix/nix.conf' }, stateDir: '/var/lib/overlay-warden' },
      { store: { url: 'local-overlay://?lower-store=%2Fl&upper-layer=/u' }, stateDir: '/s', mountinfo: '/m' },
      { store: { upperLayer: '/u', lowerStore: '/l?read-only=true', checkMount: false, remountHook: '/h', root: '/r', real: '/r/s', state: '/r/v' } },
    ]) {
      const settings = simpleSettings(raw);
      assert.ok(settings !== undefined, JSON.stringify(raw));
      assert.deepEqual(settings, configSchema.parse(raw));
    }
  });

  it('leaves to the schema what it may refuse or transform', () => {
    for (const raw of [
      null,
      [],
      { store: { url: 'x', nixConf: '/n' } },
      { store: { url: '' } },
      { store: { nixConf: 'relative' } },
      { store: { upperLayer: '/u\0x' } },
      { store: { checkMount: 'yes' } },
      { store: { unknown: '/x' } },
      { store: null },
      { stateDir: '' },
      { mountinfo: undefined },
      { log: { level: 'debug' } },
      { checks: {} },
      { stateDir: '/s', toString: '/x' },
    ]) {
      assert.equal(simpleSettings(raw), undefined, JSON.stringify(raw));
    }
  });

  it('agrees with the schema on any configuration made of its keys (property)', () => {
    const value = fc.oneof(
      fc.constantFrom('/a', '/b/c', '', 'rel', '/x\0y', 'local-overlay://?upper-layer=/u'),
      fc.boolean(),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
    );
    const store = fc.dictionary(
      fc.constantFrom('url', 'nixConf', 'root', 'real', 'state', 'upperLayer', 'lowerStore', 'checkMount', 'remountHook', 'other'),
      value,
    );
    const raw = fc.dictionary(fc.constantFrom('store', 'stateDir', 'mountinfo', 'log', 'checks'), fc.oneof(value, store));
    fc.assert(
      fc.property(raw, (r) => {
        const fast = simpleSettings(r);
        if (fast !== undefined) assert.deepEqual(fast, schemaSettings(r));
      }),
      { numRuns: 2000 },
    );
  });

  it('loadConfig with a store flag and no file loads neither zod nor yaml; an invalid setting still gets the schema wording', () => {
    const script = [
      "import { loadConfig } from './agent/config/index.ts';",
      "import { registerHooks } from 'node:module';",
      'const loaded = [];',
      'registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });',
      "const config = loadConfig({ flags: { store: 'local-overlay://?lower-store=%2Fl&upper-layer=/u', stateDir: '/s' }, env: {} });",
      'const heavy = () => loaded.filter((u) => /node_modules\\/(zod|yaml)\\//.test(u)).length;',
      'const before = heavy();',
      "let message = '';",
      "try { loadConfig({ flags: { store: 'local-overlay://?lower-store=%2Fl&upper-layer=/u' }, env: { OVERLAY_WARDEN_LOG_LEVEL: 'loud' } }); } catch (e) { message = e.message; }",
      'console.log(JSON.stringify({ before, after: heavy(), upper: config.layout.upperLayer, message }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../..', import.meta.url) });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { before: number; after: number; upper: string; message: string };
    assert.equal(result.before, 0);
    assert.ok(result.after > 0, 'the schema loads for a setting only it can check');
    assert.equal(result.upper, '/u');
    assert.match(result.message, /log\.level \(env OVERLAY_WARDEN_LOG_LEVEL\): expected one of/);
    // In-process too: the same settings either way.
    assert.deepEqual(loadConfig({ flags: { stateDir: '/s', store: 'local-overlay://?lower-store=%2Fl&upper-layer=/u' }, env: {} }).stateDir, '/s');
  });
});
