import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remountHandler, startControlServer } from '../../agent/control/index.ts';
import { Remounter } from '../../agent/remount/index.ts';
import { builtAgentDir, ROOT } from '../support/built-dist.ts';
import { reportOf } from '../support/json-output.ts';

/**
 * What ships must run where Node refuses type stripping (under node_modules): the JavaScript tsc emitted into
 * dist/ (built by `npm test` before the tests), installed as a package under node_modules, and the CLI and the
 * Nix hook run from there. Any .ts file still imported would fail to load.
 */
describe('the built package', function () {
  let dir: string;
  let main: string;
  let pkg: string;
  before(function () {
    const built = builtAgentDir();
    dir = mkdtempSync(join(tmpdir(), 'ow-package-'));
    pkg = join(dir, 'node_modules', 'overlay-warden');
    mkdirSync(pkg, { recursive: true });
    cpSync(built, join(pkg, 'dist', 'agent'), { recursive: true });
    // The sources too, as `npm pack` ships them: the hook must still run the built JavaScript here.
    for (const part of ['package.json', 'config', 'hooks', 'agent']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    // The package's dependencies, as npm would install them beside it.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name !== '.bin' && name !== 'overlay-warden') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
    }
    // The installation's Node, where npm puts the bin of the `node` package installed beside it: the hook runs on it.
    mkdirSync(join(dir, 'node_modules', '.bin'));
    symlinkSync(join('..', 'node', 'bin', 'node'), join(dir, 'node_modules', '.bin', 'node'));
    main = join(pkg, 'dist', 'agent', 'cli', 'main.js');
  });
  after(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }));

  it('emits JavaScript only, with no .ts import left', () => {
    const files = readdirSync(join(dir, 'node_modules/overlay-warden/dist'), { recursive: true }).map(String);
    assert.ok(files.some((f) => f.endsWith('main.js')));
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts')),
      [],
    );
  });

  it('runs `layout` from node_modules', () => {
    const run = spawnSync(process.execPath, [main, 'layout', '--json', '--store', 'local-overlay://?upper-layer=/u&lower-store=%2Fl'], {
      encoding: 'utf8',
      cwd: dir,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(reportOf(run.stdout, 'layout').layout.lower.realStoreDir, '/l/nix/store');
  });

  it('loads only what a command needs: --help none of the dependencies, layout and check neither zod, yaml nor execa', () => {
    // A module hook that lists every module loaded (node: built-ins aside), printed on stderr at exit.
    const hook = join(dir, 'list-modules.mjs');
    writeFileSync(
      hook,
      [
        "import { registerHooks } from 'node:module';",
        'const loaded = [];',
        "registerHooks({ load(url, context, next) { if (!url.startsWith('node:')) loaded.push(url); return next(url, context); } });",
        "process.on('exit', () => process.stderr.write(`\\nLOADED ${JSON.stringify(loaded)}\\n`));",
      ].join('\n'),
    );
    const loadedBy = (...args: string[]): string[] => {
      const run = spawnSync(process.execPath, ['--import', hook, main, ...args], { encoding: 'utf8', cwd: dir });
      const line = /^LOADED (.*)$/m.exec(run.stderr);
      assert.ok(line !== null, run.stderr);
      return JSON.parse(line[1]!) as string[];
    };
    const store = 'local-overlay://?upper-layer=/u&lower-store=%2Fl';
    const help = loadedBy('--help');
    assert.deepEqual(
      help.filter((url) => !url.includes('/node_modules/overlay-warden/')),
      [],
    );
    assert.ok(help.length < 25, `--help loads ${help.length} modules`);
    for (const command of ['layout', 'check']) {
      const heavy = loadedBy(command, '--store', store).filter((url) => /\/node_modules\/(zod|yaml|execa|winston)\//.test(url));
      assert.deepEqual(heavy, [], command);
    }
  });

  it("the README's ways to run the CLI from a checkout work as written (the built one from dist/)", () => {
    // The forms as the README writes them, so a form it documents is the form tested.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const forms = [...readme.matchAll(/`(node_modules\/\.bin\/node [^`]*) COMMAND`/g)].map((m) => m[1]!);
    assert.deepEqual(forms, ['node_modules/.bin/node agent/cli/main.ts', 'node_modules/.bin/node dist/agent/cli/main.js']);
    assert.doesNotMatch(readme, /`npx overlay-warden COMMAND`/, "npx does not link the checkout's own bin");
    builtAgentDir(); // dist/ is there and fresh, as after `npm run build`
    for (const form of forms) {
      const run = spawnSync('sh', ['-c', `${form} layout --json --store 'local-overlay://?upper-layer=/u&lower-store=%2Fl'`], { encoding: 'utf8', cwd: ROOT });
      assert.equal(run.status, 0, `${form}: ${run.stderr}`);
      assert.equal(reportOf(run.stdout, 'layout').layout.upperLayer, '/u');
    }
  });

  it("runs the Nix hook's request to the agent as JavaScript, where Node refuses the TypeScript source", async () => {
    const source = spawnSync(process.execPath, [join(pkg, 'agent/control/remount-request-main.ts'), '/s', '/m'], { encoding: 'utf8' });
    assert.notEqual(source.status, 0);
    assert.match(source.stderr, /ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/);
    // An agent's control socket with a real Remounter; the hook asks it with the Node of the installation.
    const merged = join(dir, 'merged');
    mkdirSync(merged);
    const remounter = new Remounter({
      mergedStoreDir: merged,
      stateDir: join(dir, 'state'),
      settings: { command: ['/bin/true'], timeoutSeconds: 30, attempts: 1, backoffSeconds: 0, coalesceMs: 0 },
      verifyAfterRemount: async () => ({ fresh: true, findings: [] }),
    });
    const socketPath = join(dir, 'run', 'control.sock');
    const server = await startControlServer({ socketPath, handlers: { remount: remountHandler(remounter, merged) } });
    try {
      const hook = spawn(join(pkg, 'hooks', 'nix-remount-hook'), [merged], { env: { ...process.env, OVERLAY_WARDEN_SOCKET: socketPath } });
      let stdout = '';
      let stderr = '';
      hook.stdout.on('data', (d) => (stdout += d));
      hook.stderr.on('data', (d) => (stderr += d));
      const status = await new Promise((resolve) => hook.on('close', resolve));
      assert.equal(status, 0, stderr);
      assert.match(stdout, /the agent remounted .*merged \(run 1, 1 attempt\); the view is fresh/);
      assert.deepEqual(remounter.status().lastOutcome?.reasons, [`Nix's remount-hook for ${merged}`]);
    } finally {
      await server.close();
      await remounter.close();
    }
  });
});
