import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  NixConfError,
  parseNixConf,
  parseStoreUrl,
  readNixConf,
  readNixConfStoreSetting,
  resolveStoreLayout,
  MAX_INCLUDE_DEPTH,
  NIX_CONF_MAX_BYTES,
  NIX_CONF_MAX_TOTAL_BYTES,
  type NixConfErrorCode,
  type ReadTextFile,
} from '../../agent/store/index.ts';
import { nixEnv } from '../support/nix-kit.ts';
import { requireCommand, requireRoot } from '../support/requirements.ts';

/** A ReadTextFile over an in-memory tree; missing files fail with ENOENT like fs.readFileSync. */
function memoryFs(files: Record<string, string>): ReadTextFile {
  return (file) => {
    const text = files[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
    return text;
  };
}

function confError(run: () => unknown, code: NixConfErrorCode): NixConfError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof NixConfError, `expected NixConfError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

// Replit's /etc/nix/nix.conf as published (seeds/000).
const REPLIT_NIX_CONF = `experimental-features = nix-command flakes local-overlay-store read-only-local-store
store = local-overlay?lower-store=%2Fmnt%2Fcacache%3Fread-only%3Dtrue&upper-layer=/mnt/nix/store&check-mount=false
gc-reserved-space = 0
`;

describe('nix-conf', () => {
  describe('parseNixConf', () => {
    it('reads settings and includes with their lines, dropping comments and blank lines', () => {
      const text = '# comment\n\nstore = daemon   # why\n  include  conf.d/a.conf\n!include /abs/b.conf\nsubstituters = a  b\tc\r\n';
      assert.deepEqual(parseNixConf(text, '/etc/nix/nix.conf'), [
        { kind: 'setting', name: 'store', value: 'daemon', file: '/etc/nix/nix.conf', line: 3 },
        { kind: 'include', path: '/etc/nix/conf.d/a.conf', optional: false, file: '/etc/nix/nix.conf', line: 4 },
        { kind: 'include', path: '/abs/b.conf', optional: true, file: '/etc/nix/nix.conf', line: 5 },
        { kind: 'setting', name: 'substituters', value: 'a b c', file: '/etc/nix/nix.conf', line: 6 },
      ]);
    });

    it('resolves includes against the including file, lexically', () => {
      const [entry] = parseNixConf('include ../shared/./x.conf\n', '/etc/nix/nix.conf');
      assert.ok(entry?.kind === 'include');
      assert.equal(entry.path, '/etc/shared/x.conf');
    });

    it("cuts values at '#', keeps a trailing backslash, and has no line continuation", () => {
      assert.deepEqual(
        parseNixConf('store = local?root=/a#b\nstore = foo \\\n', '/n.conf').map((e) => e.kind === 'setting' && e.value),
        ['local?root=/a', 'foo \\'],
      );
      const error = confError(() => parseNixConf('store = foo \\\n  bar\n', '/n.conf'), 'NIX_CONF_SYNTAX');
      assert.equal(error.evidence['line'], 2);
      assert.equal(error.evidence['text'], '  bar');
    });

    it('reads an empty value, and extra-store as a setting of its own', () => {
      assert.deepEqual(
        parseNixConf('store =\nextra-store = x\n', '/n.conf').map((e) => e.kind === 'setting' && [e.name, e.value]),
        [
          ['store', ''],
          ['extra-store', 'x'],
        ],
      );
    });

    it('rejects the lines Nix rejects, naming file and line', () => {
      for (const [text, line] of [
        ['store=x\n', 1],
        ['ok = 1\nstore =x\n', 2],
        ['store\n', 1],
        ['include a b\n', 1],
        ['include\n', 1],
        ['\n\n!include\n', 3],
      ] as const) {
        const error = confError(() => parseNixConf(text, '/etc/nix/nix.conf'), 'NIX_CONF_SYNTAX');
        assert.equal(error.evidence['file'], '/etc/nix/nix.conf');
        assert.equal(error.evidence['line'], line, text);
        assert.ok(error.message.startsWith(`/etc/nix/nix.conf:${line}:`), error.message);
      }
    });
  });

  describe('readNixConfStoreSetting', () => {
    it("finds Replit's store setting, which resolves to Replit's layout", () => {
      const store = readNixConfStoreSetting('/etc/nix/nix.conf', memoryFs({ '/etc/nix/nix.conf': REPLIT_NIX_CONF }));
      assert.ok(store !== undefined);
      assert.deepEqual([store.file, store.line, store.includedFrom], ['/etc/nix/nix.conf', 2, []]);
      const layout = resolveStoreLayout(parseStoreUrl(store.value));
      assert.equal(layout.lower.realStoreDir, '/mnt/cacache/nix/store');
      assert.equal(layout.upperLayer, '/mnt/nix/store');
      assert.equal(layout.checkMount, false);
    });

    it('follows include chains; the last line applied wins', () => {
      const files = {
        '/etc/nix/nix.conf': 'store = first\ninclude conf.d/a.conf\n',
        '/etc/nix/conf.d/a.conf': '# a\n!include b.conf\nsubstituters = x\n',
        '/etc/nix/conf.d/b.conf': 'store = daemon\nstore = from-b\n',
      };
      const store = readNixConfStoreSetting('/etc/nix/nix.conf', memoryFs(files));
      assert.deepEqual(store, {
        name: 'store',
        value: 'from-b',
        file: '/etc/nix/conf.d/b.conf',
        line: 2,
        includedFrom: [
          { file: '/etc/nix/nix.conf', line: 2 },
          { file: '/etc/nix/conf.d/a.conf', line: 2 },
        ],
      });
      const after = readNixConfStoreSetting('/etc/nix/nix.conf', memoryFs({ ...files, '/etc/nix/nix.conf': 'include conf.d/a.conf\nstore = after\n' }));
      assert.deepEqual([after?.value, after?.line, after?.includedFrom], ['after', 2, []]);
    });

    it('returns undefined when nothing sets store (extra-store does not)', () => {
      assert.equal(readNixConfStoreSetting('/n.conf', memoryFs({ '/n.conf': 'extra-store = daemon\nsubstituters = x\n' })), undefined);
    });

    it('skips a missing !include, and an include that exists but cannot be read, reporting both', () => {
      const read: ReadTextFile = (file) => {
        if (file === '/n.conf') return '!include gone.conf\ninclude dir.d\nstore = daemon\n';
        const code = file === '/dir.d' ? 'EISDIR' : 'ENOENT';
        throw Object.assign(new Error(code), { code });
      };
      const conf = readNixConf('/n.conf', read);
      assert.deepEqual(conf.skippedIncludes, [
        { file: '/n.conf', line: 1, path: '/gone.conf', reason: 'missing', errno: 'ENOENT' },
        { file: '/n.conf', line: 2, path: '/dir.d', reason: 'unreadable', errno: 'EISDIR' },
      ]);
      assert.equal(conf.settings.at(-1)?.value, 'daemon');
    });

    it('fails on a missing include, naming the including file and line', () => {
      const error = confError(
        () => readNixConf('/etc/nix/nix.conf', memoryFs({ '/etc/nix/nix.conf': 'store = x\ninclude extra.conf\n' })),
        'NIX_CONF_INCLUDE_MISSING',
      );
      assert.deepEqual([error.evidence['file'], error.evidence['line'], error.evidence['path']], ['/etc/nix/nix.conf', 2, '/etc/nix/extra.conf']);
    });

    it('fails on an unreadable top-level file', () => {
      const error = confError(() => readNixConf('/etc/nix/nix.conf', memoryFs({})), 'NIX_CONF_UNREADABLE');
      assert.equal(error.evidence['errno'], 'ENOENT');
    });

    it('stops at include cycles instead of looping', () => {
      const cycle = confError(
        () => readNixConf('/a.conf', memoryFs({ '/a.conf': 'include b.conf\n', '/b.conf': 'store = x\n!include sub/../a.conf\n' })),
        'NIX_CONF_INCLUDE_CYCLE',
      );
      assert.deepEqual(cycle.evidence['cycle'], ['/a.conf', '/b.conf', '/a.conf']);
      assert.deepEqual([cycle.evidence['file'], cycle.evidence['line']], ['/b.conf', 2]);
      confError(() => readNixConf('/self.conf', memoryFs({ '/self.conf': '!include self.conf\n' })), 'NIX_CONF_INCLUDE_CYCLE');
    });

    it('reads a file included twice without a cycle (both applied, in order)', () => {
      const files = { '/n.conf': 'include s.conf\nstore = mid\ninclude s.conf\n', '/s.conf': 'store = shared\n' };
      assert.deepEqual(
        readNixConf('/n.conf', memoryFs(files)).settings.map((s) => s.value),
        ['shared', 'mid', 'shared'],
      );
    });

    it('stops at include chains deeper than the limit (cycles through names it cannot see as equal)', () => {
      // Every file includes a new name, as a symlink loop would look.
      const read: ReadTextFile = (file) => `include ${Number(/(\d+)\.conf$/.exec(file)?.[1] ?? 0) + 1}.conf\n`;
      const error = confError(() => readNixConf('/0.conf', read), 'NIX_CONF_INCLUDE_TOO_DEEP');
      assert.equal(error.evidence['depth'], MAX_INCLUDE_DEPTH + 1);
    });

    it('stops at NIX_CONF_MAX_TOTAL_BYTES over all files read, a file included again counted again', () => {
      const chunk = `# ${'x'.repeat(NIX_CONF_MAX_BYTES - 100)}\n`;
      const includes = Array.from({ length: NIX_CONF_MAX_TOTAL_BYTES / NIX_CONF_MAX_BYTES + 1 }, () => 'include big.conf').join('\n');
      const error = confError(() => readNixConf('/n.conf', memoryFs({ '/n.conf': `${includes}\n`, '/big.conf': chunk })), 'NIX_CONF_TOO_LARGE');
      assert.deepEqual([error.evidence['file'], error.evidence['path']], ['/n.conf', '/big.conf']);
      assert.match(error.message, /^\/n\.conf:\d+: nix\.conf \/n\.conf and its includes hold more than/);
    });

    describe('trust and types, on real files', () => {
      let dir: string;
      before(function () {
        requireRoot(this);
        requireCommand(this, 'mkfifo');
        dir = mkdtempSync(join(tmpdir(), 'ow-nixconf-trust-'));
        chmodSync(dir, 0o755);
      });
      after(() => {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });

      const write = (name: string, text: string, uid = 0, mode = 0o644): string => {
        writeFileSync(join(dir, name), text);
        chmodSync(join(dir, name), mode);
        chownSync(join(dir, name), uid, uid);
        return join(dir, name);
      };

      const rows: readonly [string, () => string, NixConfErrorCode][] = [
        ['an include owned by uid 65534', () => `include ${write('theirs.conf', 'store = theirs\n', 65534)}`, 'NIX_CONF_UNTRUSTED'],
        ['an !include others can write', () => `!include ${write('open.conf', 'store = open\n', 0, 0o666)}`, 'NIX_CONF_UNTRUSTED'],
        ['an !include of a FIFO', () => (spawnSync('mkfifo', [join(dir, 'fifo')]), `!include ${join(dir, 'fifo')}`), 'NIX_CONF_NOT_A_FILE'],
        ['an include of /dev/zero', () => 'include /dev/zero', 'NIX_CONF_NOT_A_FILE'],
        ['an include over the cap', () => `include ${write('big.conf', `# ${'x'.repeat(NIX_CONF_MAX_BYTES)}\n`)}`, 'NIX_CONF_TOO_LARGE'],
      ];
      for (const [name, include, code] of rows) {
        it(`${name}: ${code}, naming the include line (Nix itself would read it, or hang)`, () => {
          const conf = write(`nix-${code}.conf`, `store = ok\n${include()}\n`);
          const error = confError(() => readNixConf(conf), code);
          assert.deepEqual([error.evidence['file'], error.evidence['line']], [conf, 2]);
          assert.match(error.message, new RegExp(`^${conf}:2: `));
        });
      }

      it('a top-level nix.conf owned by uid 65534: NIX_CONF_UNTRUSTED', () => {
        const conf = write('top-theirs.conf', 'store = theirs\n', 65534);
        assert.equal(confError(() => readNixConf(conf), 'NIX_CONF_UNTRUSTED').evidence['file'], conf);
      });
    });

    describe('agreeing with real Nix (nix show-config)', () => {
      let dir: string;
      before(function () {
        requireCommand(this, 'nix');
        dir = mkdtempSync(join(tmpdir(), 'ow-nixconf-'));
      });
      after(() => {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });

      /** Writes `files` (relative names) into a fresh dir and returns it. */
      function write(files: Record<string, string>): string {
        const root = mkdtempSync(join(dir, 'case-'));
        for (const [name, text] of Object.entries(files)) {
          mkdirSync(dirname(join(root, name)), { recursive: true });
          writeFileSync(join(root, name), text);
        }
        return root;
      }

      /** Nix's `store` value for NIX_CONF_DIR=confDir, or an Error when Nix refuses the config. */
      function nixStore(confDir: string): string | Error {
        // The kit's environment with this case's conf dir instead of the kit's (no user conf, no NIX_CONFIG).
        const env = nixEnv({ HOME: dir, NIX_CONF_DIR: confDir });
        const result = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'show-config'], { env, encoding: 'utf8' });
        if (result.status !== 0) return new Error(result.stderr);
        const line = result.stdout.split('\n').find((l) => l.startsWith('store = '));
        assert.ok(line !== undefined, result.stdout);
        return line.slice('store = '.length);
      }

      function ours(confDir: string): string | Error {
        try {
          // Unset, Nix's default is `auto` (NIX_REMOTE is not set here).
          return readNixConfStoreSetting(join(confDir, 'nix.conf'))?.value ?? 'auto';
        } catch (error) {
          assert.ok(error instanceof NixConfError, String(error));
          return error;
        }
      }

      // [files, the error overlay-warden (and Nix) must refuse them with, if any]
      const cases: Record<string, readonly [Record<string, string>, NixConfErrorCode?]> = {
        replit: [{ 'nix.conf': REPLIT_NIX_CONF }],
        'comments and later wins': [{ 'nix.conf': '# c\nstore = daemon # c\n\n  store   =   local?root=/x#y   \nsubstituters = \n' }],
        'include chain': [
          { 'nix.conf': 'store = first\ninclude conf.d/a.conf\n', 'conf.d/a.conf': '!include b.conf\nstore = from-a\n', 'conf.d/b.conf': 'store = from-b\n' },
        ],
        'setting after include': [{ 'nix.conf': 'include extra.conf\nstore = last\n', 'extra.conf': 'store = included\n' }],
        'missing !include': [{ 'nix.conf': '!include missing.conf\nstore = daemon\n' }],
        'missing include': [{ 'nix.conf': 'include missing.conf\nstore = daemon\n' }, 'NIX_CONF_INCLUDE_MISSING'],
        'include of a directory': [{ 'nix.conf': 'store = before\ninclude sub\n', 'sub/x': 'store = inside\n' }],
        'words joined by one space': [{ 'nix.conf': 'store =   a \t  b\r\n' }],
        'trailing backslash': [{ 'nix.conf': 'store = foo \\\n' }],
        'no continuation': [{ 'nix.conf': 'store = foo \\\n  bar\n' }, 'NIX_CONF_SYNTAX'],
        'no spaces around =': [{ 'nix.conf': 'store=daemon\n' }, 'NIX_CONF_SYNTAX'],
        'empty value': [{ 'nix.conf': 'store =\n' }],
        'extra-store': [{ 'nix.conf': 'extra-store = daemon\n' }],
        'nothing set': [{ 'nix.conf': 'substituters = https://cache.nixos.org\n' }],
      };
      for (const [name, [files, code]] of Object.entries(cases)) {
        it(name, () => {
          const confDir = write(files);
          const theirs = nixStore(confDir);
          const mine = ours(confDir);
          if (code === undefined) {
            assert.equal(mine, theirs);
          } else {
            assert.ok(theirs instanceof Error, `Nix accepted it: store = ${String(theirs)}`);
            assert.ok(mine instanceof NixConfError && mine.code === code, `overlay-warden: ${String(mine)}`);
          }
        });
      }
    });
  });
});
