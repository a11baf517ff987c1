import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MOUNTINFO_LINE_PROBLEMS,
  MountinfoParseError,
  escapeMountinfoOptionValue,
  escapeMountinfoPath,
  mountAccess,
  parseMountinfo,
  parseMountinfoLine,
  readMountinfo,
  unescapeMountinfo,
  type MountinfoEntry,
} from '../../agent/mount/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';
import { requireCommand } from '../support/requirements.ts';
import { FIXTURE_DIR, FIXTURE_NAMES, FIXTURE_ROOT, entryAt, fixtureMounts, fixtureText } from './fixtures.ts';

/** Reads every field, lazy ones included, as plain data. */
function plain(entry: MountinfoEntry): Record<string, unknown> {
  return {
    mountId: entry.mountId,
    parentId: entry.parentId,
    major: entry.major,
    minor: entry.minor,
    root: entry.root,
    mountPoint: entry.mountPoint,
    mountOptions: [...entry.mountOptions],
    optionalFields: [...entry.optionalFields],
    fsType: entry.fsType,
    source: entry.source,
    superOptions: [...entry.superOptions],
    superOptionsRaw: entry.superOptionsRaw,
    lineNumber: entry.lineNumber,
    line: entry.line,
  };
}

describe('mountinfo', () => {
  describe('captured fixtures', () => {
    it('parse every line of every fixture, keeping each raw line', () => {
      assert.ok(FIXTURE_NAMES.length >= 10, `fixtures found: ${FIXTURE_NAMES.join(', ')}`);
      for (const name of FIXTURE_NAMES) {
        const text = fixtureText(name);
        const lines = text.split('\n').slice(0, -1);
        const { mounts, errors } = parseMountinfo(text);
        assert.deepEqual(errors, [], name);
        assert.deepEqual(
          mounts.map((m) => m.line),
          lines,
          name,
        );
        assert.deepEqual(
          mounts.map((m) => m.lineNumber),
          lines.map((_, i) => i + 1),
          name,
        );
      }
    });

    it('reads an overlay line field by field, undoing \\040 and \\134 in the mount point', () => {
      const B = `${FIXTURE_ROOT}/escaped-paths`;
      const mounts = fixtureMounts('escaped-paths');
      // Mounted with: mount -t overlay overlay -o "lowerdir=…" "$B/merged dir\1" (a space and a backslash).
      const overlay = entryAt(mounts, `${B}/merged dir\\1`);
      const root = entryAt(mounts, '/');
      assert.deepEqual(plain(overlay), {
        mountId: 70,
        parentId: root.mountId,
        major: 0,
        minor: 39,
        root: '/',
        mountPoint: `${B}/merged dir\\1`,
        mountOptions: ['rw', 'relatime'],
        optionalFields: [],
        fsType: 'overlay',
        source: 'overlay',
        // The kernel shows the options as the mounter wrote them (its own \: \\ \, escapes kept), octal-escaped.
        superOptions: [
          'rw',
          `lowerdir=${B}/lower with space:${B}/col\\:on:${B}/back\\\\slash:${B}/com\\,ma:${B}/tab\tx:${B}/eq=ual`,
          `upperdir=${B}/up per\\,x\\\\y`,
          `workdir=${B}/work`,
          'uuid=on',
        ],
        superOptionsRaw: overlay.line.split(' ').at(-1),
        lineNumber: mounts.indexOf(overlay) + 1,
        line: overlay.line,
      });
    });

    it('undoes \\012 in a mount point and \\040 in a source', () => {
      const B = `${FIXTURE_ROOT}/escaped-paths`;
      // Mounted with: mount -t tmpfs "my tmp" "$B/$(printf 'new\nline')".
      const tmpfs = entryAt(fixtureMounts('escaped-paths'), `${B}/new\nline`);
      assert.equal(tmpfs.fsType, 'tmpfs');
      assert.equal(tmpfs.source, 'my tmp');
      assert.ok(tmpfs.line.includes('new\\012line') && tmpfs.line.includes(' my\\040tmp '));
    });

    it('gives a bind mount the bound directory as root and the source filesystem as device', () => {
      const B = `${FIXTURE_ROOT}/stacked`;
      const mounts = fixtureMounts('stacked');
      // mount --bind "$B/elsewhere" "$B/merged/nix/store": elsewhere is a directory of the root filesystem.
      const bind = mounts.find((m) => m.mountPoint === `${B}/merged/nix/store` && m.root !== '/');
      const root = entryAt(mounts, '/');
      assert.ok(bind);
      assert.equal(bind.root, `${B}/elsewhere`);
      assert.deepEqual([bind.major, bind.minor, bind.fsType, bind.source], [root.major, root.minor, root.fsType, root.source]);
    });

    it('keeps the propagation fields: peers share a group, a slave names it as master', () => {
      const B = `${FIXTURE_ROOT}/propagation`;
      const mounts = fixtureMounts('propagation');
      const shared = entryAt(mounts, `${B}/shared`).optionalFields;
      assert.equal(shared.length, 1);
      assert.match(shared[0] as string, /^shared:\d+$/);
      assert.deepEqual(entryAt(mounts, `${B}/peer`).optionalFields, shared);
      assert.deepEqual(entryAt(mounts, `${B}/slave`).optionalFields, [(shared[0] as string).replace('shared', 'master')]);
      assert.deepEqual(entryAt(mounts, `${B}/unbind`).optionalFields, ['unbindable']);
      assert.deepEqual(entryAt(mounts, '/').optionalFields, []);
    });

    it('tells the three kinds of read-only apart', () => {
      const B = `${FIXTURE_ROOT}/read-only`;
      const mounts = fixtureMounts('read-only');
      // -o ro: mount and superblock; no upperdir: superblock only; remount,bind,ro: mount only.
      assert.deepEqual(mountAccess(entryAt(mounts, `${B}/ro-both`)), { mountReadOnly: true, superblockReadOnly: true, readOnly: true });
      assert.deepEqual(mountAccess(entryAt(mounts, `${B}/lower-only`)), { mountReadOnly: false, superblockReadOnly: true, readOnly: true });
      assert.deepEqual(mountAccess(entryAt(mounts, `${B}/bind-ro`)), { mountReadOnly: true, superblockReadOnly: false, readOnly: true });
      assert.deepEqual(mountAccess(entryAt(mounts, '/')), { mountReadOnly: false, superblockReadOnly: false, readOnly: false });
    });

    it('gives plain data from toJSON', () => {
      for (const entry of fixtureMounts('three-lowerdirs')) {
        assert.deepEqual(JSON.parse(JSON.stringify(entry)), plain(entry));
      }
    });
  });

  describe('malformed lines', () => {
    const good = '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue';
    const bad: Record<(typeof MOUNTINFO_LINE_PROBLEMS)[number], string> = {
      'too-few-fields': '36 35 98:0 / /x rw - ext4',
      'no-separator': '36 35 98:0 / /x rw shared:1 ext4 /dev/sda rw',
      'bad-field-count-after-separator': '36 35 98:0 / /x rw - ext4 /dev/sda rw extra',
      'bad-mount-id': 'x36 35 98:0 / /x rw - ext4 /dev/sda rw',
      'bad-parent-id': '36 -1 98:0 / /x rw - ext4 /dev/sda rw',
      'bad-device': '36 35 98-0 / /x rw - ext4 /dev/sda rw',
      'empty-root': '36 35 98:0  /x rw - ext4 /dev/sda rw',
      'bad-mount-point': '36 35 98:0 / x rw - ext4 /dev/sda rw',
      'empty-mount-options': '36 35 98:0 / /x  - ext4 /dev/sda rw',
      'empty-fs-type': '36 35 98:0 / /x rw -  /dev/sda rw',
      'empty-super-options': '36 35 98:0 / /x rw - ext4 /dev/sda ',
    };

    it('reports each problem with its line number and line, and parses the other lines', () => {
      const problems = Object.keys(bad) as (keyof typeof bad)[];
      assert.deepEqual([...problems].sort(), [...MOUNTINFO_LINE_PROBLEMS].sort());
      const lines = problems.flatMap((p) => [good, bad[p]]);
      const { mounts, errors } = parseMountinfo(`${lines.join('\n')}\n`);
      assert.equal(mounts.length, problems.length);
      assert.ok(mounts.every((m) => m.line === good && m.mountPoint === '/mnt2' && m.lineNumber % 2 === 1));
      assert.deepEqual(
        errors.map((e) => [e.problem, e.lineNumber, e.line]),
        problems.map((p, i) => [p, 2 * i + 2, bad[p]]),
      );
      for (const e of errors) {
        assert.ok(e instanceof MountinfoParseError && isWardenError(e, 'MOUNTINFO_MALFORMED_LINE'));
        assert.deepEqual(e.evidence, { lineNumber: e.lineNumber, line: e.line, problem: e.problem });
        assert.ok(e.message.includes(`line ${e.lineNumber}`));
      }
    });

    it('accepts an empty source and a source that is a dash', () => {
      const empty = parseMountinfoLine('40 1 0:50 / /x rw - tmpfs  rw');
      const dash = parseMountinfoLine('40 1 0:50 / /x rw - tmpfs - rw');
      assert.ok(!(empty instanceof MountinfoParseError) && !(dash instanceof MountinfoParseError));
      assert.equal(empty.source, '');
      assert.equal(dash.source, '-');
      assert.deepEqual(dash.superOptions, ['rw']);
    });

    it('reads nsfs roots that are not paths', () => {
      const e = parseMountinfoLine('600 30 0:4 net:[4026532512] /run/netns/cni-1 rw shared:5 - nsfs nsfs rw');
      assert.ok(!(e instanceof MountinfoParseError));
      assert.equal(e.root, 'net:[4026532512]');
    });

    it('treats only the text after the final newline as no line', () => {
      assert.deepEqual(parseMountinfo(''), { mounts: [], errors: [], carriageReturns: undefined });
      assert.equal(parseMountinfo(good).mounts.length, 1);
      assert.equal(parseMountinfo(`${good}\n`).mounts.length, 1);
      const { mounts, errors } = parseMountinfo(`${good}\n\n${good}\n`);
      assert.equal(mounts.length, 2);
      assert.deepEqual(
        errors.map((e) => [e.lineNumber, e.problem]),
        [[2, 'too-few-fields']],
      );
    });

    it('removes the CR ending every line of a CRLF table, and keeps one ending only some lines as data', () => {
      const crlf = parseMountinfo(`${good}\r\n${good}\r\n`);
      assert.deepEqual(
        crlf.mounts.map((m) => [m.superOptions, m.line, m.lineNumber]),
        [
          [['rw', 'errors=continue'], good, 1],
          [['rw', 'errors=continue'], good, 2],
        ],
      );
      assert.deepEqual(crlf.carriageReturns, { count: 2, lines: [1, 2], stripped: true });
      assert.deepEqual(parseMountinfo(`${good}\r\n${good}`).carriageReturns, { count: 1, lines: [1], stripped: true });
      // The kernel does not escape a CR, so in a table whose other lines end plainly it is part of the last field.
      const mixed = parseMountinfo(`${good}\n${good}\r\n`);
      assert.deepEqual(
        mixed.mounts.map((m) => m.superOptions.at(-1)),
        ['errors=continue', 'errors=continue\r'],
      );
      assert.deepEqual(mixed.carriageReturns, { count: 1, lines: [2], stripped: false });
      assert.equal(parseMountinfo(`${good}\n`).carriageReturns, undefined);
      const many = parseMountinfo(`${`${good}\r\n`.repeat(9)}${good}\n`).carriageReturns;
      assert.deepEqual(many, { count: 9, lines: [1, 2, 3, 4, 5], stripped: false });
    });
  });

  describe('escaping', () => {
    it('undoes the four escapes the kernel uses for paths, and any other \\ooo', () => {
      assert.equal(unescapeMountinfo('a\\040b\\011c\\012d\\134e'), 'a b\tc\nd\\e');
      assert.equal(unescapeMountinfo('x\\054y\\043z\\072'), 'x,y#z:');
      assert.equal(unescapeMountinfo('\\1341'), '\\1');
      // Not three octal digits, or above \377: kept as written.
      assert.equal(unescapeMountinfo('a\\b\\04\\400\\9'), 'a\\b\\04\\400\\9');
    });

    it('round-trips any string through escapeMountinfoPath', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (s) => {
          const escaped = escapeMountinfoPath(s);
          assert.ok(!/[ \t\n]/.test(escaped));
          assert.equal(unescapeMountinfo(escaped), s);
        }),
        { numRuns: 3000 },
      );
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom('\\', '0', '4', '1', '3', ' ', '\t', '\n', 'a') }), (s) => {
          assert.equal(unescapeMountinfo(escapeMountinfoPath(s)), s);
        }),
        { numRuns: 3000 },
      );
    });

    it('round-trips any string through escapeMountinfoOptionValue, leaving no comma', () => {
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom('\\', '0', '5', '4', ',', ' ', ':', 'a') }), (s) => {
          const escaped = escapeMountinfoOptionValue(s);
          assert.ok(!/[, \t\n]/.test(escaped));
          assert.equal(unescapeMountinfo(escaped), s);
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('properties', () => {
    const text = fc.string({ unit: 'binary' });
    const field = fc.string({ unit: 'binary', minLength: 1 });
    const word = fc.stringMatching(/^[a-z0-9_.]{1,12}$/);

    it('reads back every field of a line built from arbitrary values', () => {
      fc.assert(
        fc.property(
          fc.nat(),
          fc.nat(),
          fc.nat({ max: 4095 }),
          fc.nat({ max: 1 << 20 }),
          field,
          text,
          fc.array(word, { minLength: 1, maxLength: 4 }),
          fc.array(fc.stringMatching(/^(shared|master):\d{1,4}$/), { maxLength: 2 }),
          word,
          text,
          fc.array(text, { minLength: 1, maxLength: 4 }),
          (id, parent, major, minor, root, point, mountOpts, optional, fsType, source, superOpts) => {
            const line = [
              id,
              parent,
              `${major}:${minor}`,
              escapeMountinfoPath(root),
              escapeMountinfoPath(`/${point}`),
              mountOpts.join(','),
              ...optional,
              '-',
              fsType,
              escapeMountinfoPath(source),
              superOpts.map(escapeMountinfoOptionValue).join(','),
            ].join(' ');
            const e = parseMountinfoLine(line, 7);
            if (e instanceof MountinfoParseError) {
              // Only an all-empty super options field is refused.
              assert.equal(e.problem, 'empty-super-options');
              assert.deepEqual(superOpts, ['']);
              return;
            }
            assert.deepEqual(plain(e), {
              mountId: id,
              parentId: parent,
              major,
              minor,
              root,
              mountPoint: `/${point}`,
              mountOptions: mountOpts,
              optionalFields: optional,
              fsType,
              source,
              superOptions: superOpts,
              superOptionsRaw: superOpts.map(escapeMountinfoOptionValue).join(','),
              lineNumber: 7,
              line,
            });
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('never throws on arbitrary text, and accounts for every line', () => {
      const noisy = fc.string({ unit: fc.constantFrom(' ', '-', '1', ':', '/', 'a', '\\', '\n', ',', '0', '\r') });
      fc.assert(
        fc.property(fc.oneof(text, noisy), (s) => {
          const { mounts, errors } = parseMountinfo(s);
          const lines = s.split('\n');
          if (lines.at(-1) === '') lines.pop();
          assert.equal(mounts.length + errors.length, lines.length);
          for (const m of mounts) JSON.stringify(m);
        }),
        { numRuns: 3000 },
      );
    });

    it('never throws on mutated fixture lines', () => {
      const lines = FIXTURE_NAMES.flatMap((n) => fixtureText(n).split('\n').slice(0, -1));
      const mutation = fc.record({
        line: fc.constantFrom(...lines),
        at: fc.nat(),
        length: fc.nat({ max: 40 }),
        insert: fc.string({ unit: fc.constantFrom(' ', '-', '\\', ':', ',', '=', '0', '9', 'x', ' - '), maxLength: 6 }),
      });
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (mutations) => {
          const mutated = mutations.map(({ line, at, length, insert }) => {
            const i = at % (line.length + 1);
            return line.slice(0, i) + insert + line.slice(i + length);
          });
          const { mounts, errors } = parseMountinfo(mutated.join('\n'));
          assert.equal(mounts.length + errors.length, mutated.filter((l, i) => !(l === '' && i === mutated.length - 1)).length);
          for (const m of mounts) JSON.stringify(m);
        }),
        { numRuns: 3000 },
      );
    });
  });

  describe('readMountinfo', () => {
    it("reads this process's table", async () => {
      const { mounts, errors } = await readMountinfo();
      assert.deepEqual(errors, []);
      assert.ok(mounts.some((m) => m.mountPoint === '/'));
    });

    it('reads a saved table, and rejects with the system error for a missing file', async () => {
      const { mounts } = await readMountinfo(join(FIXTURE_DIR, 'stacked.txt'));
      assert.deepEqual(
        mounts.map((m) => m.line),
        fixtureText('stacked').split('\n').slice(0, -1),
      );
      await assert.rejects(readMountinfo(join(FIXTURE_DIR, 'absent.txt')), { code: 'ENOENT' });
    });

    it('rejects at once a FIFO (a read would wait for a writer forever) and a device (a read would never end)', async function () {
      requireCommand(this, 'mkfifo');
      const dir = mkdtempSync(join(tmpdir(), 'ow-mountinfo-'));
      try {
        const fifo = join(dir, 'fifo');
        assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
        await assert.rejects(readMountinfo(fifo), { code: 'FILE_WRONG_TYPE', message: `mount table ${fifo} is a FIFO, not a regular file` });
        await assert.rejects(readMountinfo('/dev/zero'), { code: 'FILE_WRONG_TYPE' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
