import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
describe('smoke', () => {
  it('runs on node 24', () => {
    assert.equal(process.versions.node.split('.')[0], '24');
    assert.ok(DatabaseSync);
  });
});
