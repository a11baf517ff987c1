/** Runs the real-mount scenario tests of the check and prints the README table: Nix's check-mount vs overlay-warden on each mount. */
// Usage (as root): node bench/check-compare.ts. Each scenario test records, from its real run, the verdict of Nix's
// check-mount (emulated on the /proc/self/mounts the namespace really had) and what `overlay-warden check` reported.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMPARE_ENV, type ComparisonRow } from '../test/support/mount-scenario.ts';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-compare-')), 'rows.jsonl');
const files = fs
  .readdirSync(path.join(root, 'test/checks'))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => path.join('test/checks', f));
const mocha = spawnSync(
  process.execPath,
  [
    path.join(root, 'node_modules/mocha/bin/mocha.js'),
    '--no-config',
    '--timeout',
    '120000',
    '--extension',
    'ts',
    '--node-option',
    'disable-warning=ExperimentalWarning',
    '--reporter',
    'dot',
    ...files,
  ],
  {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', [COMPARE_ENV]: out },
  },
);
if (mocha.status !== 0) {
  process.stderr.write(`${mocha.stdout}\n${mocha.stderr}\nthe scenario tests failed; no table\n`);
  process.exit(1);
}
const rows = fs
  .readFileSync(out, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as ComparisonRow)
  .sort((a, b) => a.order - b.order);
fs.rmSync(path.dirname(out), { recursive: true, force: true });

const code = (text: string): string => `\`${text.replaceAll('|', '\\|')}\``;
const list = (ids: readonly string[]): string => ids.map(code).join(' ');
/** Our verdict on the mount: the exit code, and the mount.* findings (layer.* ones are about the test's directories, not the mount). */
const ours = (row: ComparisonRow): string => {
  const mount = (ids: readonly string[]): string[] => ids.filter((id) => id.startsWith('mount.') && id !== 'mount.ok');
  const warnings = mount(row.ours.warnings);
  const verdict = row.ours.exitCode === 0 ? (warnings.length > 0 ? 'ok, warning' : 'ok') : 'error';
  const shown = row.ours.exitCode === 0 ? [...warnings, ...mount(row.ours.info)] : mount(row.ours.errors);
  return `${verdict} (exit ${row.ours.exitCode})${shown.length > 0 ? `: ${list(shown)}` : ''}`;
};
const nix = (row: ComparisonRow): string => (row.nix.accepted ? 'accepts' : `refuses (${row.nix.why})`);
const right = (row: ComparisonRow): string => {
  const oursOk = row.ours.exitCode === 0;
  return row.nix.accepted === oursOk ? 'agree' : oursOk ? 'Nix refuses a working mount' : 'Nix misses the problem';
};

console.log('| scenario (real mount) | Nix check-mount | overlay-warden check | verdicts |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.scenario} | ${nix(row)} | ${ours(row)} | ${right(row)} |`);
