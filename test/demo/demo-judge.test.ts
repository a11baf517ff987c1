import assert from 'node:assert/strict';
import { describeExpectation, judgeStep, type StepExpectation, type StepOutcome } from '../../agent/demo/index.ts';

const finding = (id: string, severity: 'error' | 'warning' | 'info', path?: string): StepOutcome['findings'][number] => ({
  id: id as never,
  severity,
  evidence: path === undefined ? {} : { path },
});

const AUDIT: StepExpectation = {
  exitCode: 1,
  findings: [
    { id: 'store.duplicate', count: 2 },
    { id: 'store.masked', count: 1, path: '/nix/store/a-masked' },
  ],
  nothingElseAt: ['error', 'warning'],
};

describe('judgeStep', () => {
  it('is as expected when the exit code, the counts and the named path match, whatever other info there is', () => {
    const verdict = judgeStep(AUDIT, {
      exitCode: 1,
      findings: [
        finding('store.masked', 'error', '/nix/store/a-masked'),
        finding('store.duplicate', 'info'),
        finding('store.duplicate', 'info'),
        finding('mount.ok', 'info'),
      ],
    });
    assert.deepEqual(verdict, { asExpected: true, expected: describeExpectation(AUDIT), differences: [] });
  });

  it('names each difference: exit code, a missing id, a wrong count, a path not named, an unexpected warning', () => {
    const verdict = judgeStep(AUDIT, {
      exitCode: 0,
      findings: [finding('store.masked', 'error', '/nix/store/b-other'), finding('store.duplicate', 'info'), finding('layer.lower-writable', 'warning')],
    });
    assert.equal(verdict.asExpected, false);
    assert.deepEqual(verdict.differences, [
      'exit code 0, not 1',
      '1 store.duplicate findings, not 2',
      'no store.masked finding names /nix/store/a-masked',
      'unexpected warning layer.lower-writable',
    ]);
  });

  it('reports an expected id that is absent, and an unexpected error once however often it appears', () => {
    const clean: StepExpectation = { exitCode: 0, findings: [{ id: 'mount.ok' }], nothingElseAt: ['error'] };
    const verdict = judgeStep(clean, {
      exitCode: 0,
      findings: [finding('store.corrupt', 'error'), finding('store.corrupt', 'error'), finding('x.y', 'warning')],
    });
    assert.deepEqual(verdict.differences, ['no mount.ok finding', 'unexpected error store.corrupt']);
  });

  it('takes any count when none is given', () => {
    const some: StepExpectation = { exitCode: 1, findings: [{ id: 'store.corrupt' }], nothingElseAt: [] };
    assert.equal(judgeStep(some, { exitCode: 1, findings: [finding('store.corrupt', 'error'), finding('store.corrupt', 'error')] }).asExpected, true);
  });
});

describe('describeExpectation', () => {
  it('says the exit code, each finding with its count and path, and what else may not appear', () => {
    assert.equal(describeExpectation(AUDIT), 'exit 1; store.duplicate ×2; store.masked ×1 naming /nix/store/a-masked; no other error or warning');
    assert.equal(describeExpectation({ exitCode: 0, findings: [], nothingElseAt: [] }), 'exit 0');
  });
});
