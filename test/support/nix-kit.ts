/**
 * The Nix test kit: the one configuration every Nix call of the tests and benchmarks runs with, running a Nix
 * command, and the busybox that fixture derivations are built with.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseNarHash } from '../../agent/store/nar-hash-string.ts';

/**
 * The kit's nix.conf. Tests run as root, and Debian's Nix then defaults to building as the members of a `nixbld`
 * group that a fresh machine does not have; fixture builds need nothing from the network; the sandbox would need
 * a /bin/sh and user namespaces set up for it. `fsync-metadata = false`: fixture DBs need no durability.
 */
export const NIX_TEST_CONF = ['build-users-group =', 'substituters =', 'sandbox = false', 'fsync-metadata = false'].join('\n') + '\n';

/** Variables that would point Nix at another store or add settings: the kit's calls name their store with --store. */
const LEAKING = ['NIX_CONFIG', 'NIX_REMOTE', 'NIX_STORE_DIR', 'NIX_STATE_DIR', 'NIX_LOG_DIR', 'NIX_PATH', 'NIX_DAEMON_SOCKET_PATH'];

let confDir: string | undefined;

/** The kit's NIX_CONF_DIR: a temporary directory holding NIX_TEST_CONF, made on first use, removed when this process exits. */
export function nixConfDir(): string {
  if (confDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-nix-conf-'));
    fs.writeFileSync(path.join(dir, 'nix.conf'), NIX_TEST_CONF);
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    confDir = dir;
  }
  return confDir;
}

/**
 * The environment for a Nix call: this process's, without the variables that choose a store or add settings, with
 * NIX_CONF_DIR the kit's and NIX_USER_CONF_FILES naming a file that does not exist, so that neither /etc/nix/nix.conf
 * nor ~/.config/nix is read; then `extra` (a test of nix.conf parsing may name its own NIX_CONF_DIR).
 */
export function nixEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of LEAKING) delete env[name];
  const dir = nixConfDir();
  return { ...env, NIX_CONF_DIR: dir, NIX_USER_CONF_FILES: path.join(dir, 'no-user-nix.conf'), ...extra };
}

/** Runs a Nix command with the kit's environment (or `env`), asserts it exited 0, and returns its stdout. */
export function runNix(command: string, args: readonly string[], env: NodeJS.ProcessEnv = nixEnv()): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed (${String(result.status ?? result.signal)}):\n${result.stderr}`);
  return result.stdout;
}

/**
 * The busybox fixture derivations use as their builder (Debian's busybox-static: static, so it runs from the
 * store with nothing else): the one on PATH. Throws when there is none; tests require it first
 * (`requireCommand(this, 'busybox')`).
 */
export function busyboxPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error('busybox is not on PATH (Debian: apt-get install busybox-static)');
  return found;
}

/** `sha256:<hex>` of a hash in any of Nix's forms (SRI, base-32, base-16), as overlay-warden's findings print it. */
export function sha256Base16(hash: string): string {
  return `sha256:${parseNarHash(hash).toString('hex')}`;
}
