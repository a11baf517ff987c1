import assert from 'node:assert/strict';
import { siblingModuleUrl } from '../../agent/pool/worker-file.ts';

describe('pool/worker-file', () => {
  it('keeps .ts when the sources run under type stripping', () => {
    assert.equal(siblingModuleUrl('file:///work/agent/pool/worker-pool.ts', 'worker').href, 'file:///work/agent/pool/worker.ts');
  });

  it('keeps .js after tsc emitted into dist/', () => {
    assert.equal(siblingModuleUrl('file:///work/dist/agent/pool/worker-pool.js', 'worker').href, 'file:///work/dist/agent/pool/worker.js');
  });

  it('ignores dots in directory names and handles escaped characters', () => {
    assert.equal(siblingModuleUrl('file:///a.b/my%20dir/pool.mjs', 'worker').href, 'file:///a.b/my%20dir/worker.mjs');
  });

  it('resolves the real worker next to the pool module', () => {
    const url = siblingModuleUrl(new URL('../../agent/pool/worker-pool.ts', import.meta.url).href, 'worker');
    assert.ok(url.pathname.endsWith('/agent/pool/worker.ts'));
  });
});
