import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { LineCounter, parseDocument, isMap, isScalar } from 'yaml';
import { parseSimpleYaml } from '../../agent/config/simple-yaml.ts';

/** What the yaml package makes of `text`: the value, and the line of each key path's node as config-file.ts records them. */
function byYaml(text: string): { raw: unknown; lines: Map<string, number> } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const lines = new Map<string, number>();
  const visit = (node: unknown, key: string): void => {
    const range = (node as { range?: readonly number[] } | null)?.range;
    if (range !== undefined) lines.set(key, lineCounter.linePos(range[0]!).line);
    if (isMap(node)) for (const pair of node.items) visit(pair.value ?? pair.key, `${key}\0${isScalar(pair.key) ? String(pair.key.value) : String(pair.key)}`);
  };
  visit(doc.contents, '');
  return { raw: doc.toJS(), lines };
}

// The reader may decline any text, but what it reads must be what the yaml package reads, lines included.
describe('parseSimpleYaml: the plainest configuration files without the yaml package', () => {
  it('reads the shipped default configuration as the yaml package does', () => {
    const text = readFileSync(new URL('../../config/overlay-warden.yaml', import.meta.url), 'utf8');
    const simple = parseSimpleYaml(text);
    assert.ok(simple !== undefined, 'the shipped default must stay in the subset, or every command loads the yaml package');
    assert.deepEqual(simple, byYaml(text));
  });

  it('declines what it does not read', () => {
    for (const text of [
      '',
      '# only a comment\n',
      'store:\n',
      'store:\nstateDir: /s\n',
      'stateDir: /a\nstateDir: /b\n',
      'store:\n  url: /a\n  url: /b\n',
      'stateDir: relative\n',
      'stateDir: "/quoted"\n',
      'stateDir: /a b\n',
      'log:\n  level: info\n',
      'stateDir:\t/a\n',
      'stateDir: /a\r\n',
      'store:\n   nixConf: /three-spaces\n',
      'store:\n  nested:\n    deeper: /x\n',
      '---\nstateDir: /a\n',
      'stateDir: /a # fine\n  indented: /b\n',
    ]) {
      assert.equal(parseSimpleYaml(text), undefined, JSON.stringify(text));
    }
  });

  it('agrees with the yaml package on any text made of its pieces (property)', () => {
    const piece = fc.constantFrom(
      'store:',
      'store: # section',
      'checks:',
      '  nixConf: /etc/nix/nix.conf',
      '  upperLayer: /u # upper',
      '  url: /x',
      'stateDir: /var/lib/x',
      'mountinfo: /m#not-a-comment',
      '# comment',
      '  # indented comment',
      '',
      '   ',
      'stateDir: relative',
      '  level: info',
      'key: /a/b.c_d-e',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('\n');
        const simple = parseSimpleYaml(text);
        if (simple !== undefined) assert.deepEqual(simple, byYaml(text), JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
  });
});
