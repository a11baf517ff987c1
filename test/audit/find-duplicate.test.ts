import assert from 'node:assert/strict';
import { findDuplicates } from '../../agent/audit/find-duplicate.ts';
import { formatBytes } from '../../agent/config/byte-size.ts';
import { literalFacts, pathOf } from './support/literal-facts.ts';

describe('findDuplicates', () => {
  it('reports entries in both layers (not whiteouts), with bytes and registration facts', () => {
    const facts = literalFacts({
      upperDb: [{ label: 'dup' }, { label: 'mine' }],
      lowerDb: [{ label: 'dup' }, { label: 'hidden' }],
      upperLayer: { dup: 'directory', mine: 'file', hidden: 'device-whiteout', 'unregistered-dup': 'file' },
      lowerLayer: ['dup', 'hidden', 'unregistered-dup'],
      duplicateBytes: { dup: 8192 },
    });
    const findings = findDuplicates(facts);
    assert.deepEqual(findings.map((f) => f.evidence['path']).sort(), [pathOf('dup'), pathOf('unregistered-dup')].sort());
    const dup = findings.find((f) => f.evidence['path'] === pathOf('dup'))!;
    assert.equal(dup.severity, 'info');
    assert.equal(dup.evidence['upperBytes'], 8192);
    assert.equal(dup.evidence['registeredInLowerDb'], true);
    assert.match(dup.message, /frees 8\.00 KiB/);
    assert.match(
      dup.hint ?? '',
      /^a dedupe candidate: nix-store --optimise through the overlay store .*; check first .*overlay-warden audit --hash-duplicates/,
    );
    const stray = findings.find((f) => f.evidence['path'] === pathOf('unregistered-dup'))!;
    assert.equal(stray.evidence['registeredInLowerDb'], false);
    assert.equal(stray.hint, undefined, 'not a dedupe candidate when the lower DB does not register it');
  });

  it('hashed copies: same NAR hash stays info, different is a warning', () => {
    const facts = literalFacts({
      upperDb: [],
      lowerDb: [{ label: 'same' }, { label: 'differs' }],
      upperLayer: { same: 'file', differs: 'file' },
      lowerLayer: ['same', 'differs'],
      pairs: {
        same: { equal: true, upperHash: 'sha256:aa', lowerHash: 'sha256:aa' },
        differs: { equal: false, upperHash: 'sha256:aa', lowerHash: 'sha256:bb' },
      },
    });
    const bySeverity = Object.fromEntries(findDuplicates(facts).map((f) => [f.evidence['path'] as string, [f.severity, f.evidence['sameNarHash']]]));
    assert.deepEqual(bySeverity, { [pathOf('same')]: ['info', true], [pathOf('differs')]: ['warning', false] });
  });

  it('hints: copies that differ go to verify of that path; a candidate only the lower DB registers is removed by hand', () => {
    const facts = literalFacts({
      upperDb: [{ label: 'same' }],
      lowerDb: [{ label: 'same' }, { label: 'differs' }, { label: 'copied-up' }],
      upperLayer: { same: 'file', differs: 'file', 'copied-up': 'directory', nowhere: 'file' },
      lowerLayer: ['same', 'differs', 'copied-up', 'nowhere'],
      pairs: {
        same: { equal: true, upperHash: 'sha256:aa', lowerHash: 'sha256:aa' },
        differs: { equal: false, upperHash: 'sha256:aa', lowerHash: 'sha256:bb' },
        nowhere: { equal: false, upperHash: 'sha256:aa', lowerHash: 'sha256:bb' },
      },
    });
    const hints = Object.fromEntries(findDuplicates(facts).map((f) => [f.evidence['path'] as string, f.hint]));
    assert.equal(
      hints[pathOf('differs')],
      `the copies differ: overlay-warden verify ${pathOf('differs')} says which copy matches the DB (it hashes what the merged view serves and the lower copy) before you remove either`,
    );
    assert.match(hints[pathOf('nowhere')] ?? '', /no DB registers the path/);
    assert.match(hints[pathOf('same')] ?? '', /nix-store --optimise/);
    assert.doesNotMatch(hints[pathOf('same')] ?? '', /check first/, 'hashed the same: nothing to check');
    assert.match(hints[pathOf('copied-up')] ?? '', /delete the upper copy from the upper layer while the overlay is unmounted/);
  });

  it('formats sizes in binary units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(50 * 1024 * 1024), '50.0 MiB');
  });
});
