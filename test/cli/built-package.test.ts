import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtAgentDir, ROOT } from '../support/built-dist.ts';

/**
 * What ships must run where Node refuses type stripping (under node_modules): the JavaScript tsc emitted into
 * dist/ (built by `npm test` before the tests), installed as a package under node_modules, and the CLI run from
 * there. Any .ts file still imported would fail to load.
 */
describe('the built package', function () {
  let dir: string;
  let main: string;
  before(function () {
    const built = builtAgentDir();
    dir = mkdtempSync(join(tmpdir(), 'ow-package-'));
    const pkg = join(dir, 'node_modules', 'overlay-warden');
    mkdirSync(pkg, { recursive: true });
    cpSync(built, join(pkg, 'dist', 'agent'), { recursive: true });
    for (const part of ['package.json', 'config', 'hooks']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    // The package's dependencies, as npm would install them beside it.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== '.bin' && name !== 'overlay-warden') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
    }
    main = join(pkg, 'dist', 'agent', 'cli', 'main.js');
  });
  after(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }));

  it('emits JavaScript only, with no .ts import left', () => {
    const files = readdirSync(join(dir, 'node_modules/overlay-warden/dist'), { recursive: true }).map(String);
    assert.ok(files.some((f) => f.endsWith('main.js')));
    assert.deepEqual(files.filter((f) => f.endsWith('.ts')), []);
  });

  it('runs `layout` from node_modules', () => {
    const run = spawnSync(process.execPath, [main, 'layout', '--json', '--store', 'local-overlay://?upper-layer=/u&lower-store=%2Fl'], { encoding: 'utf8', cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).layout.lower.realStoreDir, '/l/nix/store');
  });
});
