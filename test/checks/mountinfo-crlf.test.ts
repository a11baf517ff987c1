/** A mount table whose lines end in a carriage return: a saved table with Windows line endings, or a path ending in one. */
import assert from 'node:assert/strict';
import {
  decideLowerLayers,
  decideMergedMount,
  decideMountOptions,
  decideMountSummary,
  decideNixCheckMount,
  decideUpperLayer,
  nixVerdictFor,
  type ReadMountFacts,
} from '../../agent/checks/index.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { fixtureText } from '../mount/fixtures.ts';
import { factsOf, fixtureUrl, ids, layoutOf } from './literal-facts.ts';

/** Every mount decision of `check` (the layer checks read the file system, so they are left out). */
function mountFindings(facts: ReadMountFacts, url: string): Finding[] {
  const layout = layoutOf(url);
  return [
    ...decideMergedMount(facts),
    ...decideLowerLayers(facts),
    ...decideUpperLayer(facts),
    ...decideMountOptions(facts, false),
    ...decideNixCheckMount(facts, layout, nixVerdictFor(facts, layout)),
    ...decideMountSummary(facts, false),
  ];
}

describe('check: mount tables with carriage returns', () => {
  // Replit's mount (three lowerdirs, captured from the kernel), with check-mount on so Nix's verdict counts too.
  const url = fixtureUrl('three-lowerdirs');
  const lf = fixtureText('three-lowerdirs');
  const crlf = lf.replaceAll('\n', '\r\n');

  it('reads a table saved with CRLF line endings as the kernel printed it, and says the CRs were removed', () => {
    const plain = mountFindings(factsOf(lf, url), url);
    assert.ok(ids(plain).includes('mount.ok'), JSON.stringify(plain, null, 2));
    const found = mountFindings(factsOf(crlf, url), url);
    const crWarning = found.find((f) => f.id === 'mount.mountinfo-crlf');
    assert.equal(crWarning?.severity, 'warning');
    assert.deepEqual(crWarning?.evidence, { mountinfoFile: 'literal.txt', linesEndingInCr: 7, firstLines: [1, 2, 3, 4, 5], removed: true });
    assert.match(crWarning?.message ?? '', /Windows \(CRLF\) line endings/);
    assert.match(crWarning?.hint ?? '', /dos2unix/);
    // The same verdicts as on the table as printed; only mount.ok gives way to the warning about the table.
    assert.deepEqual(
      found.filter((f) => f.id !== 'mount.mountinfo-crlf'),
      plain.filter((f) => f.id !== 'mount.ok'),
    );
  });

  it('also without a final line ending', () => {
    const found = mountFindings(factsOf(crlf.slice(0, -2), url), url);
    assert.equal(found.find((f) => f.id === 'mount.mountinfo-crlf')?.evidence['removed'], true);
    assert.deepEqual(
      found.filter((f) => f.id !== 'mount.mountinfo-crlf'),
      mountFindings(factsOf(lf, url), url).filter((f) => f.id !== 'mount.ok'),
    );
  });

  it('keeps a CR ending some lines only as data (a path can end in one), and says which lines', () => {
    const lines = lf.trimEnd().split('\n');
    const mixed = `${lines.map((l, i) => (i === lines.length - 1 ? `${l}\r` : l)).join('\n')}\n`;
    const facts = factsOf(mixed, url);
    assert.equal(facts.overlay?.superOptions.at(-1), 'uuid=on\r');
    const found = mountFindings(facts, url);
    const crWarning = found.find((f) => f.id === 'mount.mountinfo-crlf');
    assert.deepEqual(crWarning?.evidence, { mountinfoFile: 'literal.txt', linesEndingInCr: 1, firstLines: [7], removed: false });
    assert.match(crWarning?.message ?? '', /^1 line\(s\) of the mount table literal\.txt end in a carriage return \(line 7\)/);
  });
});
