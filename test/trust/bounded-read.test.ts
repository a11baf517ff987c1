import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeCap, readBounded, readBoundedSync, TrustError } from '../../agent/trust/index.ts';
import { requireCommand } from '../support/requirements.ts';

/** Both readers, as one promise-returning function each. */
const READERS = {
  readBoundedSync: async (file: string, maxBytes: number) => readBoundedSync(file, { what: 'test file', maxBytes }),
  readBounded: (file: string, maxBytes: number) => readBounded(file, { what: 'test file', maxBytes }),
} as const;

describe('trust/bounded-read: a type check first, then a capped read', function () {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-bounded-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, read] of Object.entries(READERS)) {
    describe(name, () => {
      it('reads a regular file whole: empty, exactly at the cap, and many chunks long', async () => {
        const sizes = [0, 100, 300_000];
        for (const size of sizes) {
          const file = path.join(dir, `f${size}`);
          const bytes = Buffer.from(Array.from({ length: size }, (_, i) => i % 251));
          fs.writeFileSync(file, bytes);
          assert.ok((await read(file, Math.max(size, 100))).equals(bytes), `${size} bytes`);
        }
      });

      it('reads the kernel’s /proc files, which report size 0, with the cap', async () => {
        const text = (await read('/proc/self/mountinfo', 64 << 20)).toString('utf8');
        assert.match(text, /^\d+ \d+ \d+:\d+ /);
        await assert.rejects(read('/proc/self/mountinfo', 10), (e) => {
          assert.ok(e instanceof TrustError && e.code === 'FILE_TOO_LARGE');
          assert.deepEqual(e.evidence, { file: '/proc/self/mountinfo', size: undefined, maxBytes: 10 });
          assert.equal(e.message, 'test file /proc/self/mountinfo holds more than 10 bytes, the most overlay-warden reads of it');
          return true;
        });
      });

      it('refuses a file over the cap by its size, before reading it', async () => {
        const file = path.join(dir, 'big');
        fs.writeFileSync(file, Buffer.alloc(2048));
        await assert.rejects(read(file, 1024), (e) => {
          assert.ok(e instanceof TrustError && e.code === 'FILE_TOO_LARGE');
          assert.deepEqual(e.evidence, { file, size: 2048, maxBytes: 1024 });
          assert.match(e.message, /is 2048 bytes, more than 1 KiB/);
          return true;
        });
      });

      it('fails at once on a FIFO nobody writes to, and on a device that never ends', async function () {
        requireCommand(this, 'mkfifo');
        const fifo = path.join(dir, `fifo-${name}`);
        assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
        for (const [file, type] of [
          [fifo, 'FIFO'],
          ['/dev/zero', 'character device'],
        ] as const) {
          await assert.rejects(read(file, 1 << 20), (e) => {
            assert.ok(e instanceof TrustError && e.code === 'FILE_WRONG_TYPE', String(e));
            assert.deepEqual(e.evidence, { file, type, expected: 'regular file' });
            return true;
          });
        }
      });

      it('passes the system’s errors through: ENOENT, EISDIR', async () => {
        await assert.rejects(read(path.join(dir, 'none'), 100), { code: 'ENOENT' });
        await assert.rejects(read(dir, 100), { code: 'EISDIR' });
      });
    });
  }

  it('describes caps in the largest whole unit', () => {
    assert.deepEqual([1 << 20, 64 << 20, 4096, 1000].map(describeCap), ['1 MiB', '64 MiB', '4 KiB', '1000 bytes']);
  });
});
