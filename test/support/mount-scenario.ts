/** Real-mount scenarios for `overlay-warden check`: temp dirs, a lower store made by real Nix, mounts in a private namespace, and the comparison with Nix's own check. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckOutcome } from '../../agent/checks/run-checks.ts';
import type { MountSummary } from '../../agent/cli/commands/check.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { nixCheckMount, type NixCheckMountVerdict } from '../../agent/mount/nix-check-mount.ts';
import type { StoreLayout } from '../../agent/store/store-layout.ts';
import { CLI_MAIN } from './cli-run.ts';
import { reportOf } from './json-output.ts';
import { runInFreshNamespace } from './mount-namespace.ts';
import { runNix } from './nix-kit.ts';
import { requireMountNamespaces, requireNix } from './requirements.ts';

/** What `check --json` prints: the envelope's findings beside its result's keys. */
export interface CheckJson {
  readonly findings: readonly Finding[];
  readonly checks: readonly CheckOutcome[];
  readonly layout: StoreLayout;
  readonly mount: MountSummary;
}

export interface CheckRun {
  readonly code: number;
  readonly report: CheckJson;
  readonly stderr: string;
  /** /proc/self/mounts as it was inside the namespace, just before the check ran: what Nix's check-mount reads. */
  readonly procMounts: string;
}

/** Skips (or fails under CI) unless private mount namespaces with real mounts and Nix can be had. */
export function requireMountScenario(ctx: Mocha.Context): void {
  requireMountNamespaces(ctx);
  requireNix(ctx);
}

/** A fresh directory under the temp dir, realpath'd (so mount tables show the same path). */
export function makeScenarioDir(name: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `ow-check-${name}-`)));
}

/** Makes a real Nix store at `root` holding one added file (its DB at ROOT/nix/var/nix/db). Returns the store path. */
export function makeLowerStore(root: string, scratch: string): string {
  fs.mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, 'hello.txt');
  fs.writeFileSync(file, `hello from ${path.basename(root)}\n`);
  return runNix('nix-store', ['--store', root, '--add', file]).trim();
}

/** `'…'` for sh, with embedded single quotes handled. */
export function shQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs `mountScript` (sh, `set -e`) in a new private mount namespace, saves /proc/self/mounts, then execs
 * `overlay-warden check --json ARGS` there with Node 24 (this process's binary) and a clean environment.
 */
export function checkInNamespace(mountScript: string, args: readonly string[], options: { cwd?: string } = {}): CheckRun {
  const mountsOut = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ow-mounts-')), 'mounts');
  const script = `set -e\n${mountScript}\ncat /proc/self/mounts > "$OW_MOUNTS_OUT"\nexec "$@"`;
  const result = runInFreshNamespace(['sh', '-c', script, 'sh', process.execPath, CLI_MAIN, 'check', '--json', ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env['PATH'], NO_COLOR: '1', OW_MOUNTS_OUT: mountsOut },
    timeout: 60_000,
  });
  try {
    assert.ok(
      result.status === 0 || result.status === 1,
      `check exited ${String(result.status)} (${result.signal ?? ''}):\n${result.stdout}\n${result.stderr}`,
    );
    return { code: result.status, report: reportOf<CheckJson>(result.stdout, 'check'), stderr: result.stderr, procMounts: fs.readFileSync(mountsOut, 'utf8') };
  } finally {
    fs.rmSync(path.dirname(mountsOut), { recursive: true, force: true });
  }
}

/** Ids of the findings at `severity`, sorted. */
export function idsAt(run: CheckRun, severity: Finding['severity']): string[] {
  return run.report.findings
    .filter((f) => f.severity === severity)
    .map((f) => f.id)
    .sort();
}

/** The one finding with `id` (fails the test when there is not exactly one). */
export function findingOf(run: CheckRun, id: string): Finding {
  const found = run.report.findings.filter((f) => f.id === id);
  assert.equal(found.length, 1, `expected one ${id}, got: ${JSON.stringify(run.report.findings.map((f) => f.id))}`);
  return found[0]!;
}

/**
 * Nix's verdict on the real /proc/self/mounts of the run, for the layout the check resolved; asserts that the
 * verdict the check computed from mountinfo (through the derived /proc/self/mounts lines) is the same.
 */
export function nixVerdictOf(run: CheckRun): NixCheckMountVerdict {
  const layout = run.report.layout;
  const verdict = nixCheckMount(run.procMounts, {
    realStoreDir: layout.mergedStoreDir,
    lowerRealStoreDir: layout.lower.realStoreDir,
    upperLayer: layout.upperLayer,
  });
  assert.deepEqual(
    JSON.parse(JSON.stringify(verdict)),
    run.report.mount.nixCheckMount,
    'Nix verdict from /proc/self/mounts differs from the one derived from mountinfo',
  );
  return verdict;
}

/** One row of the README's comparison of Nix's check-mount with ours. */
export interface ComparisonRow {
  readonly order: number;
  readonly scenario: string;
  readonly mountLine: string | null;
  readonly nix: { readonly accepted: boolean; readonly why: string };
  readonly ours: { readonly exitCode: number; readonly errors: readonly string[]; readonly warnings: readonly string[]; readonly info: readonly string[] };
}

/** The file `bench/check-compare.ts` collects rows in (JSON lines); unset in ordinary test runs. */
export const COMPARE_ENV = 'OVERLAY_WARDEN_CHECK_COMPARE';

/** Records how Nix and overlay-warden judged a scenario's real mount, when COMPARE_ENV names a file. */
export function recordComparison(order: number, scenario: string, run: CheckRun): void {
  const file = process.env[COMPARE_ENV];
  if (file === undefined || file === '') return;
  const verdict = nixVerdictOf(run);
  const why = verdict.accepted
    ? 'accepted'
    : verdict.regexError !== undefined
      ? 'regex error'
      : verdict.matchedLine === undefined
        ? 'no matching overlay line'
        : [verdict.lowerdirMatched ? '' : 'lowerdir', verdict.upperdirMatched ? '' : 'upperdir'].filter((s) => s !== '').join(' and ') + ' not matched';
  const row: ComparisonRow = {
    order,
    scenario,
    mountLine: verdict.matchedLine ?? run.report.mount.overlayLine ?? run.report.mount.visibleLine,
    nix: { accepted: verdict.accepted, why },
    ours: { exitCode: run.code, errors: idsAt(run, 'error'), warnings: idsAt(run, 'warning'), info: idsAt(run, 'info') },
  };
  fs.appendFileSync(file, `${JSON.stringify(row)}\n`);
}
