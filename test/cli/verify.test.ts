/** `overlay-warden verify` as users run it: scopes, paths, reports, exit codes, usage errors. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { threadsOption, verifyResult, verifyScope } from '../../agent/cli/commands/verify.ts';
import { UsageError } from '../../agent/cli/usage-error.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/store-builder.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope, reportOf } from '../support/json-output.ts';

interface VerifyJson {
  readonly findings: Finding[];
  readonly partial: boolean;
  readonly scope: string;
  readonly planned: number;
  readonly checked: number;
  readonly bytes: number;
}

describe('overlay-warden verify', function () {
  this.timeout(60_000);
  let dir: string;
  let store: DemoStore;
  const verify = async (...argv: string[]): Promise<{ code: number; out: VerifyJson }> => {
    const run = await runCliCaptured(['verify', '--json', '--threads', '2', '--store', store.storeUrl, ...argv]);
    return { code: run.code, out: reportOf(run.stdout, 'verify') as VerifyJson };
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-verify-cli-'));
    store = await buildDemoStore(path.join(dir, 'store'), { lowerPaths: 150, upperPaths: 40, duplicates: 5 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a healthy store verifies in every scope, hashing what each covers', async () => {
    const upperDb = store.upper.paths.length + store.upper.copiedUp.length;
    const upper = await verify();
    assert.equal(upper.code, 0, JSON.stringify(upper.out.findings));
    assert.deepEqual([upper.out.scope, upper.out.planned, upper.out.checked], ['upper', upperDb, upperDb]);
    const lower = await verify('--lower');
    assert.deepEqual([lower.code, lower.out.planned], [0, 150]);
    const all = await verify('--all');
    // A path both DBs register is one item: its lower copy, or its upper copy with the lower one hashed beside it.
    const shared = store.upper.copiedUp.length;
    assert.deepEqual([all.code, all.out.planned, all.out.checked], [0, 150 + upperDb - shared, 150 + upperDb - shared]);
    assert.ok(all.out.bytes > 0);
  });

  it('a modified upper object is corrupt, checked against the upper DB; exit 1', async () => {
    const victim = store.upper.paths.find((p) => fs.lstatSync(path.join(store.upper.layer, path.basename(p))).isFile())!;
    const target = path.join(store.upper.layer, path.basename(victim));
    fs.chmodSync(target, 0o644);
    fs.appendFileSync(target, 'tampered');
    const { code, out } = await verify(victim);
    assert.equal(code, 1);
    assert.equal(out.scope, 'paths');
    assert.deepEqual(
      out.findings.map((f) => [f.id, f.evidence['path'], f.evidence['db'], f.evidence['layer']]),
      [['store.corrupt', victim, 'upper', 'upper']],
    );
    assert.notEqual(out.findings[0]!.evidence['expectedNarHash'], out.findings[0]!.evidence['actualNarHash']);
  });

  it('usage errors exit 2: clashing scopes, scope with paths, bad --threads, a path outside the store, a path no DB registers', async () => {
    const unknown = `${store.storeDir}/${'0'.repeat(32)}-not-registered`;
    const cases: Array<[string[], string, RegExp]> = [
      [['--upper', '--lower'], 'USAGE_CONFLICT', /--upper and --lower exclude each other/],
      [['--all', store.lower.paths[0]!], 'USAGE_CONFLICT', /--all and store paths exclude each other/],
      [['--threads', '0'], 'USAGE_BAD_VALUE', /--threads takes a whole number from 1 to 256, got "0"/],
      [['/etc/passwd'], 'USAGE_BAD_ARGUMENT', /'\/etc\/passwd' is not a store path/],
      [[unknown], 'USAGE_BAD_ARGUMENT', /registered in neither the upper nor the lower DB/],
    ];
    for (const [argv, code, message] of cases) {
      const run = await runCliCaptured(['verify', '--json', '--store', store.storeUrl, ...argv]);
      assert.equal(run.code, 2, argv.join(' '));
      const { error } = parseEnvelope(run.stdout, 'verify');
      assert.equal(error?.code, code, argv.join(' '));
      assert.match(error!.message, message);
    }
  });

  it('parses its options', () => {
    assert.equal(verifyScope({}, []), 'upper');
    assert.equal(verifyScope({ lower: true }, []), 'lower');
    assert.equal(verifyScope({}, ['/nix/store/x']), undefined);
    assert.equal(threadsOption({}), undefined);
    assert.equal(threadsOption({ threads: '7' }), 7);
    assert.throws(
      () => threadsOption({ threads: '1.5' }),
      (error: unknown) => error instanceof UsageError && error.code === 'USAGE_BAD_VALUE' && error.evidence['option'] === '--threads',
    );
    assert.throws(
      () => verifyScope({ upper: true, all: true }, []),
      (error: unknown) => error instanceof UsageError && error.code === 'USAGE_CONFLICT',
    );
  });

  it('an interrupted run says how many paths it planned, or that it was stopped before the plan was made', () => {
    const report = { findings: [], partial: true, scope: 'lower' as const, total: 300, checked: 12, bytes: 4096, seconds: 1.5, notComputed: [] };
    assert.deepEqual(verifyResult(report, 2, 8), {
      scope: 'lower',
      partial: true,
      interruptedIn: 'hashing',
      planned: 300,
      checked: 12,
      bytes: 4096,
      seconds: 1.5,
      threads: 2,
      maxThreads: 8,
      notComputed: [],
    });
    const planning = verifyResult({ ...report, total: 0, checked: 0, bytes: 0 }, 0, 8);
    assert.deepEqual([planning.interruptedIn, planning.planned], ['planning', null]);
    const finished = verifyResult({ ...report, partial: false, checked: 300 }, 2, 8);
    assert.deepEqual([finished.interruptedIn, finished.planned], [null, 300]);
  });
});
