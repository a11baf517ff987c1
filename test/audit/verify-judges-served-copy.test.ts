/**
 * verify judges each path by what the merged view serves, on a real overlay of Nix 2.8 stores: lower-only paths
 * written to through the merged store dir (a copy-up of a whole file, of one file inside a directory, of metadata
 * only, a delete inside), and whiteouts over registered paths. The oracle is `nix-hash` of the path through the
 * mounted merged store dir, and the narHash Nix registered.
 */
import assert from 'node:assert/strict';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { reportOf } from '../support/json-output.ts';
import { sha256Base16 } from '../support/nix-kit.ts';
import { COPY_UP, createNixOverlayFixture, parseAssignments, requireNixOverlayFixture, type NixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { requireCommand } from '../support/requirements.ts';

interface Report {
  readonly findings: readonly Finding[];
  readonly planned: number;
  readonly checked: number;
}

describe('verify judges every path by the copy the merged view serves', function () {
  this.timeout(300_000);
  let f: NixOverlayFixture;
  let p: Record<string, string>;
  /** What Nix registered (the lower DB), and what each path hashes to through the merged store dir. */
  const registered: Record<string, string> = {};
  const served: Record<string, string> = {};

  const verify = async (...argv: string[]): Promise<{ code: number; report: Report }> => {
    const result = await runCliCaptured(['verify', ...argv, '--json', '--store', f.storeUrl]);
    assert.ok(result.code === 0 || result.code === 1, result.stdout + result.stderr);
    return { code: result.code, report: reportOf<Report>(result.stdout, 'verify') };
  };
  const about = (report: Report, label: string): Finding[] => report.findings.filter((x) => x.evidence['path'] === p[label]);

  before(function () {
    requireNixOverlayFixture(this);
    requireCommand(this, 'getfattr');
    f = createNixOverlayFixture();
    p = parseAssignments(
      f.unmounted(`
        add() { echo $1=$(nix-store --store "$A" --add "$EXPR.$1"); }
        printf 'hello\\n' > "$EXPR.file" && add file
        mkdir -p "$EXPR.dir/sub" && echo a > "$EXPR.dir/a" && echo b > "$EXPR.dir/sub/b" && add dir
        mkdir -p "$EXPR.touched" && echo t > "$EXPR.touched/t" && add touched
        mkdir -p "$EXPR.pruned" && echo keep > "$EXPR.pruned/keep" && echo gone > "$EXPR.pruned/gone" && add pruned
        mkdir -p "$EXPR.meta" && echo data > "$EXPR.meta/m" && add meta
        echo hidden > "$EXPR.hidden" && add hidden
        echo hiddenUp > "$EXPR.hiddenUp" && add hiddenUp
        echo fine > "$EXPR.fine" && add fine
      `),
    );
    const labels = ['file', 'dir', 'touched', 'pruned', 'meta', 'hidden', 'hiddenUp', 'fine'];
    for (const label of labels) registered[label] = sha256Base16(f.unmounted(`nix-store --store "$A" -q --hash ${p[label]}`).trim());
    const merged = (label: string): string => `"$B${p[label]}"`;
    // Writes through the merged store dir, as a user (or a tool) would: the kernel copies up what is written.
    f.mounted(`${COPY_UP}
      copy_up ${p['hiddenUp']}
      echo tampered >> ${merged('file')}
      echo tampered >> ${merged('dir')}/a
      touch -d 2001-01-01 ${merged('touched')}/t
      rm ${merged('pruned')}/gone
      rm ${merged('hidden')} ${merged('hiddenUp')}
    `);
    // A metadata-only copy-up: the upper file is a data-less stub of the lower one's size (zeros on disk).
    f.mounted(`umount "$B/nix/store"
      mount -t overlay overlay -o "lowerdir=$A/nix/store,upperdir=$U,workdir=$W,metacopy=on" "$B/nix/store"
      chmod 0400 ${merged('meta')}/m
    `);
    const hashes = parseAssignments(
      f.mounted(`umount "$B/nix/store"
        mount -t overlay overlay -o "lowerdir=$A/nix/store,upperdir=$U,workdir=$W,metacopy=on" "$B/nix/store"
        ${['file', 'dir', 'touched', 'pruned', 'meta', 'fine'].map((label) => `echo ${label}=$(nix-hash --type sha256 ${merged(label)})`).join('\n')}
      `),
    );
    for (const [label, hash] of Object.entries(hashes)) served[label] = sha256Base16(`sha256:${hash}`);
    assert.equal(f.unmounted(`stat -c %F "$U${p['hidden']!.slice('/nix/store'.length)}"`).trim(), 'character special file', 'rm made a whiteout');
  });
  after(() => f?.remove());

  it('the served copies differ from the registrations exactly where the content changed (the oracle holds)', () => {
    for (const label of ['file', 'dir', 'pruned']) assert.notEqual(served[label], registered[label], label);
    for (const label of ['touched', 'meta', 'fine']) assert.equal(served[label], registered[label], label);
  });

  for (const scope of [[], ['--all'], ['--lower']]) {
    it(`verify ${scope.join(' ') || '(upper scope)'}: a lower-only path tampered through the merged dir is corrupt, with the served hash and the intact lower copy`, async () => {
      const { code, report } = await verify(...scope);
      assert.equal(code, 1);
      for (const [label, servedFrom] of [
        ['file', 'upper'],
        ['dir', 'upper+lower'],
        ['pruned', 'upper+lower'],
      ] as const) {
        const found = about(report, label);
        assert.equal(found.length, 1, `${label}: ${JSON.stringify(report.findings, null, 1)}`);
        const e = found[0]!.evidence;
        assert.deepEqual(
          [found[0]!.id, found[0]!.severity, e['servedFrom'], e['db'], e['expectedNarHash'], e['actualNarHash'], e['lowerCopy']],
          ['store.corrupt', 'error', servedFrom, 'lower', registered[label], served[label], 'matches'],
          label,
        );
        assert.match(found[0]!.message, /the lower layer's copy matches the lower DB/);
      }
      for (const label of ['touched', 'meta', 'fine']) assert.deepEqual(about(report, label), [], `${label} is served as registered`);
    });
  }

  it('verify --all: a path a whiteout hides is masked (not corrupt, not OK), whichever DBs register it', async () => {
    const { report } = await verify('--all');
    const hidden = about(report, 'hidden');
    assert.deepEqual(
      hidden.map((x) => [x.id, x.severity, x.evidence['registeredInLowerDb'], x.evidence['registeredInUpperDb']]),
      [['store.masked', 'error', true, false]],
    );
    const hiddenUp = about(report, 'hiddenUp');
    assert.deepEqual(
      hiddenUp.map((x) => [x.id, x.evidence['registeredInLowerDb'], x.evidence['registeredInUpperDb']]),
      [['store.masked', true, true]],
    );
  });

  it('verify (upper scope) reports both whiteouts too: they are upper-layer entries over registered paths', async () => {
    const { report } = await verify();
    assert.deepEqual(
      [...about(report, 'hidden'), ...about(report, 'hiddenUp')].map((x) => x.id),
      ['store.masked', 'store.masked'],
    );
  });

  it('verify PATH: the served copy against the DB, the lower copy named as the one that matches; a hidden path is masked', async () => {
    const { code, report } = await verify(p['dir']!, p['hidden']!, p['touched']!);
    assert.equal(code, 1);
    assert.deepEqual(
      report.findings.map((x) => [x.id, x.evidence['path'], x.evidence['lowerCopy']]),
      [
        ['store.corrupt', p['dir'], 'matches'],
        ['store.masked', p['hidden'], undefined],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    assert.deepEqual([report.planned, report.checked], [2, 2]);
  });

  it('audit --hash-duplicates: copies that differ send to verify of that path, which names the lower copy as the one matching; a touched copy is the same', async () => {
    const audit = await runCliCaptured(['audit', '--hash-duplicates', '--json', '--store', f.storeUrl]);
    const duplicates = reportOf<{ findings: Finding[] }>(audit.stdout, 'audit').findings.filter((x) => x.id === 'store.duplicate');
    const byLabel = (label: string): Finding | undefined => duplicates.find((x) => x.evidence['path'] === p[label]);
    assert.equal(byLabel('touched')?.evidence['sameNarHash'], true, 'the merged view of a touched copy serves what the lower copy holds');
    const dir = byLabel('dir');
    assert.equal(dir?.evidence['sameNarHash'], false);
    const command = /overlay-warden (verify \S+)/.exec(dir?.hint ?? '')?.[1]?.split(' ');
    assert.deepEqual(command, ['verify', p['dir']], dir?.hint);
    const { report } = await verify(...command!.slice(1));
    assert.deepEqual(
      report.findings.map((x) => [x.evidence['path'], x.evidence['lowerCopy']]),
      [[p['dir'], 'matches']],
    );
  });
});
