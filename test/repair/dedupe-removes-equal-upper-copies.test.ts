/**
 * dedupe on a real overlay of Nix-2.8-built stores (the upper DB holding lower registrations copied up, as the
 * local-overlay store does): a dry run that changes nothing, a GC lock held elsewhere that makes `--apply` wait and
 * then refuse, a crash between rename and delete that the audit names and the next run finishes, equal copies
 * removed and a differing one left, one remount, and afterwards Nix's own verify through the merged store passing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { DEDUPE_LEFTOVER_PREFIX } from '../../agent/audit/index.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { AgentScenario, runCli } from '../support/agent-child.ts';
import { parseEnvelope, reportOf } from '../support/json-output.ts';
import { CLI_MAIN } from '../support/cli-run.ts';
import { COPY_UP, parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';
import { waitFor } from '../support/wait-for.ts';

/** The parts of dedupe's result the test reads. */
interface DedupeReport {
  readonly findings: Finding[];
  readonly applied: boolean;
  readonly lock: { file: string } | null;
  readonly leftovers: { found: string[]; deleted: string[] };
  readonly paths: Array<{ path: string; verdict: string; removed: boolean; matchesDb: string | null; bytes: number | null }>;
  readonly duplicates: number;
  readonly removable: number;
  readonly removed: number;
  readonly bytes: number;
  readonly remount: { status: string } | null;
  readonly check: { paths: number; servedFromLower: number } | null;
}

/** Waits until a process is blocked on `file`'s flock: the kernel lists a waiter as a `->` line in /proc/locks. */
async function blockedOn(file: string): Promise<void> {
  const inode = fs.statSync(file).ino;
  await waitFor(
    () =>
      fs
        .readFileSync('/proc/locks', 'utf8')
        .split('\n')
        .some((l) => l.includes('->') && l.includes(`:${inode} `)),
    `a process to wait for the lock on ${file}`,
  );
}

describe('dedupe: upper copies of lower paths, removed only when they equal the lower copy and the DB', function () {
  this.timeout(300_000);
  let s: AgentScenario | undefined;
  let equal: string[];
  let differing: string;
  const nameOf = (path: string): string => path.slice('/nix/store/'.length);
  const upperEntries = (): string[] => fs.readdirSync(s!.fixture.upperLayer).sort();
  const gcLock = (): string => `${s!.fixture.mergedRoot}/nix/var/nix/gc.lock`;
  const dedupe = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['dedupe', '--config', s!.configFile, ...args], { PATH: process.env['PATH'], NO_COLOR: '1', ...env }, s!.ns.nsenter);
  const duplicatesInAudit = async (): Promise<Finding[]> => {
    const run = await runCli(['audit', '--json', '--config', s!.configFile]);
    return reportOf(run.stdout, 'audit').findings.filter((f) => f.id === 'store.duplicate' || f.id === 'store.dedupe-leftover');
  };

  before(async function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'flock');
    // The lower store: the chain built by Nix (busybox builders) and a tree added, as a template would hold them.
    s = await AgentScenario.create(`
      nix-build --store "$A" "$EXPR" --no-out-link >/dev/null
      mkdir -p "$EXPR.odd/share" && echo hello > "$EXPR.odd/readme" && head -c 65536 /dev/urandom > "$EXPR.odd/share/blob"
      nix-store --store "$A" --add "$EXPR.odd" >/dev/null
    `);
    const made = parseAssignments(
      s.ns.bash(`
        ${COPY_UP}
        # Two paths added through the overlay store, then to the lower store too (Nix's duplicate scenario).
        for i in 1 2; do
          mkdir -p "$EXPR.both$i/bin" && echo "tool $i" > "$EXPR.both$i/bin/tool" && ln -s tool "$EXPR.both$i/bin/alias"
          echo both$i=$(nix-store --store "$B" --add "$EXPR.both$i")
          nix-store --store "$A" --add "$EXPR.both$i" >/dev/null
        done
        # A lower path Nix built, its registration copied up, and a copy of its files in the upper layer.
        chain=$(nix-store --store "$A" -q --outputs "$(nix-instantiate --store "$A" "$EXPR")")
        copy_up "$chain"
        cp -a "$A$chain" "$U/"
        echo chain=$chain
        # A lower path whose upper copy differs (one file changed); only the lower DB registers it.
        odd=$(nix-store --store "$A" --add "$EXPR.odd")
        cp -a "$A$odd" "$U/" && chmod u+w "$U\${odd#/nix/store}" "$U\${odd#/nix/store}/readme"
        echo changed > "$U\${odd#/nix/store}/readme"
        chmod a-w "$U\${odd#/nix/store}/readme" "$U\${odd#/nix/store}"
        echo odd=$odd
      `),
    );
    equal = [made['both1']!, made['both2']!, made['chain']!];
    differing = made['odd']!;
    s.writeConfig();
  });
  after(async () => s?.close());

  it('a dry run lists every duplicate with the bytes it frees, and changes nothing', async () => {
    const before = upperEntries();
    const run = await dedupe(['--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = reportOf<DedupeReport>(run.stdout, 'dedupe');
    assert.equal(report.applied, false);
    assert.equal(report.lock, null, 'a dry run takes no lock');
    assert.equal(report.duplicates, 4);
    assert.deepEqual(
      report.paths
        .filter((p) => p.verdict === 'remove')
        .map((p) => p.path)
        .sort(),
      [...equal].sort(),
    );
    assert.ok(report.paths.every((p) => !p.removed && p.bytes !== null && p.bytes > 0));
    assert.equal(
      report.bytes,
      report.paths.filter((p) => p.verdict === 'remove').reduce((sum, p) => sum + p.bytes!, 0),
    );
    const odd = report.paths.find((p) => p.path === differing);
    assert.equal(odd?.verdict, 'differs');
    assert.equal(odd?.matchesDb, 'lower', 'the lower copy is the one the DB describes');
    assert.ok(report.findings.some((f) => f.id === 'store.duplicate' && f.severity === 'warning' && f.evidence['path'] === differing));
    assert.equal(report.remount, null);
    const text = await dedupe([]);
    assert.match(text.stdout, new RegExp(`${equal[0]} \\([^)]+\\): would remove: both copies match the DB`));
    assert.match(text.stdout, new RegExp(`${differing} \\([^)]+\\): left: the copies differ \\(DB matches lower\\)`));
    assert.match(text.stdout, /4 duplicates: 3 would be removed, freeing .+ \(dry run: --apply removes them\)/);
    assert.deepEqual(upperEntries(), before);
  });

  it('--apply waits for a GC lock held elsewhere, then refuses clearly, changing nothing', async () => {
    const holder = await holdLock(gcLock());
    try {
      const before = upperEntries();
      const run = await dedupe(['--apply', '--lock-timeout', '1', '--json']);
      assert.equal(run.code, 1);
      const envelope = parseEnvelope(run.stdout, 'dedupe');
      assert.equal(envelope.error?.code, 'GC_LOCK_TIMED_OUT');
      assert.match(envelope.error!.message, /gc\.lock is still held after 1 s: a garbage collection, an optimise or another repair is running/);
      assert.match(run.stderr, /--lock-timeout/);
      assert.deepEqual(upperEntries(), before);
    } finally {
      await release(holder);
    }
  });

  it('Ctrl-C while --apply waits for the lock stops it at once: exit 130, nothing changed', async () => {
    const holder = await holdLock(gcLock());
    try {
      const before = upperEntries();
      const child = spawn(
        s!.ns.nsenter[0]!,
        [...s!.ns.nsenter.slice(1), process.execPath, CLI_MAIN, 'dedupe', '--apply', '--lock-timeout', '120', '--config', s!.configFile],
        {
          env: { PATH: process.env['PATH'], NO_COLOR: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
      await blockedOn(gcLock());
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /GC_LOCK_CANCELLED/);
      assert.deepEqual(upperEntries(), before);
    } finally {
      await release(holder);
    }
  });

  it('a crash between rename and delete leaves a marked leftover, which the audit names', async () => {
    const run = await dedupe(['--apply'], { OVERLAY_WARDEN_TEST_DEDUPE_CRASH: 'after-set-aside' });
    assert.equal(run.code, null, 'killed by SIGKILL');
    const leftovers = upperEntries().filter((n) => n.startsWith(DEDUPE_LEFTOVER_PREFIX));
    assert.equal(leftovers.length, 1);
    const setAside = `/nix/store/${leftovers[0]!.slice(DEDUPE_LEFTOVER_PREFIX.length)}`;
    assert.ok(equal.includes(setAside));
    assert.equal(fs.existsSync(`${s!.fixture.upperLayer}/${nameOf(setAside)}`), false, 'the name is gone from the upper layer at once');
    const audit = await duplicatesInAudit();
    const leftover = audit.find((f) => f.id === 'store.dedupe-leftover');
    assert.equal(leftover?.evidence['path'], setAside);
    assert.match(leftover!.hint ?? '', /dedupe --apply/);
  });

  it('the next --apply waits for the lock, finishes the leftover, removes the equal copies, keeps the differing one, remounts once', async () => {
    const holder = await holdLock(gcLock());
    const leftover = upperEntries().find((n) => n.startsWith(DEDUPE_LEFTOVER_PREFIX))!;
    const running = dedupe(['--apply', '--lock-timeout', '120', '--json']);
    // Waiting: the kernel lists dedupe's flock as blocked on gc.lock (a `->` line in /proc/locks).
    await blockedOn(gcLock());
    assert.ok(upperEntries().includes(leftover), 'nothing changes while it waits');
    await release(holder);
    const run = await running;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = reportOf<DedupeReport>(run.stdout, 'dedupe');
    assert.deepEqual(report.leftovers.deleted, [leftover]);
    assert.equal(report.removed, 2, 'the two equal copies the crashed run did not reach');
    assert.equal(report.remount?.status, 'remounted');
    assert.deepEqual(report.check, { paths: 2, servedFromLower: 2 });
    assert.equal(report.findings.filter((f) => f.severity === 'error').length, 0, JSON.stringify(report.findings));
    const left = upperEntries();
    for (const path of equal) assert.ok(!left.includes(nameOf(path)), `${path} is gone from the upper layer`);
    assert.ok(left.includes(nameOf(differing)), 'the differing copy stays');
    assert.ok(!left.some((n) => n.startsWith(DEDUPE_LEFTOVER_PREFIX)));
    // The merged dir serves the lower copies (the lower inodes); the lower store is as it was.
    for (const path of equal) {
      const inodes = parseAssignments(s!.ns.bash(`echo merged=$(stat -c %i "$B${path}"); echo lower=$(stat -c %i "$A${path}")`));
      assert.equal(inodes['merged'], inodes['lower'], path);
    }
    assert.deepEqual(
      (await duplicatesInAudit()).map((f) => f.evidence['path']),
      [differing],
    );
  });

  it('once the differing copy is repaired, dedupe removes it too: no duplicates, and nix-store --verify --check-contents passes', async () => {
    const upper = `${s!.fixture.upperLayer}/${nameOf(differing)}`;
    fs.chmodSync(upper, 0o755);
    fs.chmodSync(`${upper}/readme`, 0o644);
    fs.writeFileSync(`${upper}/readme`, 'hello\n');
    fs.chmodSync(`${upper}/readme`, 0o444);
    fs.chmodSync(upper, 0o555);
    const run = await dedupe(['--apply', '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(reportOf<DedupeReport>(run.stdout, 'dedupe').removed, 1);
    assert.deepEqual(await duplicatesInAudit(), []);
    // Nix's own check of every path the upper DB registers, contents hashed through the merged store.
    s!.ns.bash('nix-store --store "$B" --verify --check-contents 2>&1');
  });
});

/** Holds an exclusive flock on `file` in another process, as Nix's GC holds gc.lock. */
async function holdLock(file: string): Promise<ChildProcess> {
  const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
  return holder;
}

async function release(holder: ChildProcess): Promise<void> {
  holder.stdin!.end();
  if (holder.exitCode === null) await new Promise((resolve) => holder.once('exit', resolve));
}
