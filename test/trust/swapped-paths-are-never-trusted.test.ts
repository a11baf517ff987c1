/**
 * The races of issue 10, as loops against an attacker: a process running as uid 65534 swaps, by rename, an entry of
 * a directory it can write (its own, or a sticky one) between something root trusts and its own content, 20,000
 * times, while the agent's code reads the config, runs the remount command, writes the state dir, reads a nix.conf
 * include, or checks the control socket's directory through that entry. Not one attempt may succeed: the path goes
 * through something the attacker controls, so it is refused every time, whatever the attacker's timing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../agent/config/index.ts';
import { assertSocketDirSafe } from '../../agent/control/control-socket-path.ts';
import { isWardenError } from '../../agent/errors/index.ts';
import { runRemountCommand, trustedRemountArgv } from '../../agent/remount/index.ts';
import { prepareStateDir, writeFileAtomic } from '../../agent/state/index.ts';
import { readNixConf } from '../../agent/store/index.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';
import { raceAgainst, Swapper, type RaceResult } from './swapper.ts';

const NOBODY = 65534;
const STORE_URL = 'local-overlay://?root=/merged&lower-store=%2Flower&upper-layer=/upper';

/** The outcome of an attempt that threw: the error's code (a WardenError's, or errno). */
const codeOf = (error: unknown): string => (isWardenError(error) ? error.code : String((error as { code?: unknown }).code ?? error));

/**
 * Asserts that every attempt was refused with `code` (or with one of `alsoRefusedWith`, for a moment when the
 * attacker's rotation leaves the name missing), and says how the race went when not.
 */
function assertAllRefused(race: RaceResult, code: string, ...alsoRefusedWith: string[]): void {
  const seen = Object.fromEntries(race.outcomes);
  const how = `${race.attempts} attempts during ${race.swaps} swaps: ${JSON.stringify(seen)}`;
  assert.deepEqual(
    Object.keys(seen).filter((outcome) => outcome !== code && !alsoRefusedWith.includes(outcome)),
    [],
    how,
  );
  assert.ok((seen[code] ?? 0) > 0, how);
}

describe('trust: paths an attacker keeps swapping are never trusted (races against uid 65534)', function () {
  let base: string;
  /** Root's own directory, holding what the agent may trust. */
  let trusted: string;
  /** Root's directory of symlinks into the attacker's directory: what the configuration names. */
  let etc: string;
  /** The attacker's directory (uid 65534). */
  let attacker: string;
  let swapper: Swapper | undefined;

  before(function () {
    requireRoot(this);
    requireCommand(this, 'setpriv');
  });
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-race-'));
    fs.chmodSync(base, 0o755);
    trusted = path.join(base, 'trusted');
    etc = path.join(base, 'etc');
    attacker = path.join(base, 'nobody');
    for (const dir of [trusted, etc, attacker]) fs.mkdirSync(dir, { mode: 0o755 });
    fs.chownSync(attacker, NOBODY, NOBODY);
  });
  afterEach(async () => {
    await swapper?.kill();
    swapper = undefined;
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** Writes `file` with `text` and `mode`, owned by `uid`. */
  function put(file: string, text: string, mode = 0o644, uid = 0): string {
    fs.writeFileSync(file, text);
    fs.chmodSync(file, mode);
    fs.chownSync(file, uid, uid);
    return file;
  }

  it('the config file: a symlink into the attacker’s directory, its target swapped between root’s config and theirs', async () => {
    const legit = put(path.join(trusted, 'legit.yaml'), `store:\n  url: "${STORE_URL}"\nremount:\n  command: [${trusted}/hook]\n`);
    put(path.join(attacker, 'evil.yaml'), `store:\n  url: "${STORE_URL}"\nremount:\n  command: [${attacker}/evil-hook]\n`, 0o644, NOBODY);
    const config = path.join(etc, 'overlay-warden.yaml');
    fs.symlinkSync(path.join(attacker, 'config.yaml'), config);
    // Root's own file, named directly, loads: the refusals below are the attacker's doing.
    assert.deepEqual(loadConfig({ flags: { config: legit }, env: {} }).remount.command, [`${trusted}/hook`]);

    swapper = await Swapper.start(attacker, 'config.yaml', { symlinks: [legit, path.join(attacker, 'evil.yaml')] });
    const race = await raceAgainst(swapper, () => {
      try {
        return `loaded ${String(loadConfig({ flags: { config }, env: {} }).remount.command)}`;
      } catch (error) {
        return codeOf(error);
      }
    });
    assertAllRefused(race, 'CONFIG_INSECURE');
  });

  it('the config file through a sticky world-writable directory: the attacker’s own symlink there is never followed', async () => {
    const sticky = path.join(base, 'tmp');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    const legit = put(path.join(trusted, 'legit.yaml'), `store:\n  url: "${STORE_URL}"\n`);
    put(path.join(attacker, 'evil.yaml'), `store:\n  url: "${STORE_URL}"\nstateDir: /evil\n`, 0o644, NOBODY);
    // Root's own file in the sticky directory is trusted: nobody else may rename or remove it there.
    assert.equal(
      loadConfig({ flags: { config: put(path.join(sticky, 'root.yaml'), `store:\n  url: "${STORE_URL}"\n`) }, env: {} }).file,
      path.join(sticky, 'root.yaml'),
    );

    swapper = await Swapper.start(sticky, 'shared.yaml', { symlinks: [legit, path.join(attacker, 'evil.yaml')] });
    const race = await raceAgainst(swapper, () => {
      try {
        return `loaded ${loadConfig({ flags: { config: path.join(sticky, 'shared.yaml') }, env: {} }).stateDir}`;
      } catch (error) {
        return codeOf(error);
      }
    });
    assertAllRefused(race, 'CONFIG_INSECURE');
  });

  it('the remount command: a symlink into the attacker’s directory, swapped between root’s hook and theirs, never runs theirs', async () => {
    const pwned = path.join(base, 'pwned');
    const hook = put(path.join(trusted, 'hook'), '#!/bin/sh\nexit 0\n', 0o755);
    put(path.join(attacker, 'evil-hook'), `#!/bin/sh\ntouch '${pwned}'\n`, 0o755, NOBODY);
    fs.symlinkSync(hook, path.join(etc, 'good-remount'));
    fs.symlinkSync(path.join(attacker, 'remount'), path.join(etc, 'remount'));
    // A hook reached through root's own symlink runs.
    const options = { timeoutMs: 20_000, killGraceMs: 300, maxOutputBytes: 4096 };
    assert.equal((await runRemountCommand(trustedRemountArgv([path.join(etc, 'good-remount')]), options)).exitCode, 0);

    swapper = await Swapper.start(attacker, 'remount', { symlinks: [hook, path.join(attacker, 'evil-hook')] });
    const race = await raceAgainst(swapper, async () => {
      let argv: string[];
      try {
        argv = trustedRemountArgv([path.join(etc, 'remount'), '/merged']);
      } catch (error) {
        return codeOf(error);
      }
      return `ran, exit ${String((await runRemountCommand(argv, options)).exitCode)}`;
    });
    assertAllRefused(race, 'REMOUNT_COMMAND_UNTRUSTED');
    assert.equal(fs.existsSync(pwned), false, 'the attacker’s hook ran as root');
  });

  it('the state dir: swapped between root’s private dir and one full of symlinks to a root file; nothing is written anywhere', async () => {
    const victim = put(path.join(trusted, 'victim'), 'precious');
    const rootState = path.join(trusted, 'state');
    fs.mkdirSync(rootState, { mode: 0o700 });
    const loot = path.join(attacker, 'loot');
    fs.mkdirSync(loot, { mode: 0o755 });
    for (const name of ['flag.json', `.flag.json.${process.pid}.tmp`]) fs.symlinkSync(victim, path.join(loot, name));
    fs.chownSync(loot, NOBODY, NOBODY);
    const stateDir = path.join(etc, 'state');
    fs.symlinkSync(path.join(attacker, 'state'), stateDir);

    swapper = await Swapper.start(attacker, 'state', { symlinks: [rootState, loot] });
    let n = 0;
    const race = await raceAgainst(swapper, () => {
      try {
        if (n++ % 2 === 0) prepareStateDir(stateDir);
        else writeFileAtomic(path.join(stateDir, 'flag.json'), 'the baseline');
        return 'accepted';
      } catch (error) {
        return codeOf(error);
      }
    });
    assertAllRefused(race, 'STATE_DIR_UNTRUSTED');
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.deepEqual(fs.readdirSync(rootState), []);
  });

  it('a nix.conf include: the included file swapped between root’s and the attacker’s', async () => {
    const legit = put(path.join(trusted, 'extra.conf'), 'store = legit\n');
    put(path.join(attacker, 'evil.conf'), 'store = evil\n', 0o644, NOBODY);
    const nixConf = put(path.join(trusted, 'nix.conf'), `store = ${STORE_URL}\ninclude ${path.join(attacker, 'extra.conf')}\n`);

    swapper = await Swapper.start(attacker, 'extra.conf', { symlinks: [legit, path.join(attacker, 'evil.conf')] });
    const race = await raceAgainst(swapper, () => {
      try {
        return `read store = ${String(readNixConf(nixConf).settings.at(-1)?.value)}`;
      } catch (error) {
        return codeOf(error);
      }
    });
    assertAllRefused(race, 'NIX_CONF_UNTRUSTED');
  });

  it('the control socket’s directory: directories rotated by rename under it, root’s private one among them', async () => {
    const rootRun = path.join(attacker, 'run-root');
    fs.mkdirSync(rootRun, { mode: 0o700 });
    const theirs = path.join(attacker, 'run-theirs');
    fs.mkdirSync(theirs, { mode: 0o700 });
    fs.chownSync(theirs, NOBODY, NOBODY);
    fs.symlinkSync(path.join(attacker, 'run'), path.join(etc, 'run'));

    swapper = await Swapper.start(attacker, 'run', { dirs: ['run-root', 'run-theirs'] });
    const race = await raceAgainst(swapper, () => {
      try {
        assertSocketDirSafe(path.join(etc, 'run', 'control.sock'));
        return 'accepted';
      } catch (error) {
        return codeOf(error);
      }
    });
    // While the name is missing, its directory cannot be made through root's dangling symlink: refused too.
    assertAllRefused(race, 'CONTROL_DIR_UNSAFE', 'CONTROL_LISTEN_FAILED');
  });
});
