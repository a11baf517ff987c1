import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { readStoreOffThread } from '../../agent/audit/audit-thread.ts';
import { WardenError } from '../../agent/errors/index.ts';
import { PoolTaskError } from '../../agent/pool/index.ts';
import { NIX_DB_SCHEMA_SQL, NIX_SCHEMA_VERSION } from '../../agent/store/nix-db-schema.ts';

/** An error thrown on the audit thread reaches the caller as a WardenError with the thread-side code, evidence and hint. */
describe('audit/audit-thread errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ow-audit-thread-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a Nix DB error keeps its code, evidence, hint and errno cause', async () => {
    const file = join(dir, 'absent', 'db.sqlite');
    const error = await readStoreOffThread({ file, storeDir: '/nix/store', immutable: true, layer: join(dir, 'store') }).then(
      () => assert.fail('reading an absent DB should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WardenError && error instanceof PoolTaskError, String(error));
    assert.equal(error.code, 'NIX_DB_MISSING');
    assert.equal(error.remoteName, 'NixDbError');
    assert.equal(error.message, `Nix DB ${file} does not exist`);
    assert.deepEqual(error.evidence, { file, errno: 'ENOENT', job: 'read-store' });
    assert.match(error.hint ?? '', /Nix creates STATE\/db\/db\.sqlite on first use/);
    assert.ok(error.cause instanceof WardenError);
    assert.equal(error.cause.code, 'POOL_TASK_IO_ERROR');
    assert.equal(error.cause.evidence['errno'], 'ENOENT');
  });

  it('a layer listing error keeps its code and evidence', async () => {
    // A real (empty) Nix DB, so that the thread gets as far as listing the store dir, which is absent.
    const file = join(dir, 'db.sqlite');
    const db = new DatabaseSync(file);
    db.exec(NIX_DB_SCHEMA_SQL);
    db.close();
    writeFileSync(join(dir, 'schema'), `${NIX_SCHEMA_VERSION}`);
    const layer = join(dir, 'no-such-store');
    await assert.rejects(readStoreOffThread({ file, storeDir: '/nix/store', immutable: true, layer }), (error: unknown) => {
      assert.ok(error instanceof PoolTaskError, String(error));
      assert.equal(error.code, 'AUDIT_LAYER_UNREADABLE');
      assert.equal(error.remoteName, 'AuditError');
      assert.deepEqual(error.evidence, { dir: layer, errno: 'ENOENT', job: 'read-store' });
      return true;
    });
  });
});
