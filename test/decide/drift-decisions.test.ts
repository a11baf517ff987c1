import assert from 'node:assert/strict';
import type { LowerDaemonIdentity, LowerDbIdentity } from '../../agent/baseline/index.ts';
import { decideOnDrift, decideOnProbe, describeDrift, eventLevel, type AgentAction, type DecisionLayout, type EventLevel } from '../../agent/decide/index.ts';
import { judgeView, type ObjectState, type ProbeReport, type ProbeResult, type StaleReason, type Verdict } from '../../agent/probe/index.ts';
import type { ProbeSymptom } from '../../agent/remount/index.ts';
import { DRIFT_EVENT_TYPES, type DriftEvent, type DriftEventBody, type MountView } from '../../agent/watch/index.ts';

const LAYOUT: DecisionLayout = { upperLayer: '/srv/upper/store', lower: { realStoreDir: '/srv/lower/nix/store' } };
const AT = '2025-03-01T12:00:00.000Z';
const HELLO = `${'a'.repeat(32)}-hello-2.12`;
const LIBC = `${'b'.repeat(32)}-glibc-2.40`;
const p = (name: string): string => `/nix/store/${name}`;
/** 1,000 distinct store paths (digits are Nix base-32). */
const MANY = Array.from({ length: 1000 }, (_, i) => p(`${String(i).padStart(32, '0')}-pkg-${i}`));

const watched = (body: DriftEventBody): DriftEvent => ({ ...body, source: 'watch', at: AT }) as DriftEvent;
const atStartup = (body: DriftEventBody): DriftEvent => ({ ...body, source: 'startup', at: AT }) as DriftEvent;

const DB: LowerDbIdentity = {
  file: '/srv/lower/nix/var/nix/db/db.sqlite',
  dev: '2049',
  ino: '1001',
  size: 8192,
  mtimeNs: '1700000000000000000',
  walSize: 0,
  walMtimeNs: null,
  validPaths: { count: 3, maxId: 3 },
};
const DAEMON: LowerDaemonIdentity = { socket: '/run/snix/daemon.sock', protocol: '1.34', nixVersion: '2.8.0', validPaths: 5, digest: 'a'.repeat(64) };
const OVERLAY_LINE = '65 22 0:39 / /nix/store rw,relatime - overlay overlay rw,lowerdir=/srv/lower/nix/store,upperdir=/srv/upper/store,workdir=/srv/upper/work';
const MOUNTED: MountView = {
  overlay: { mountId: 65, parentId: 22, fsType: 'overlay', source: 'overlay', mountOptions: ['rw', 'relatime'], superOptions: ['rw'], line: OVERLAY_LINE },
  above: [],
};
const UNMOUNTED: MountView = { overlay: null, above: [] };

const REFRESH: AgentAction = { kind: 'refresh-baseline' };
const RECHECK: AgentAction = { kind: 'recheck-mount' };
const probe = (...paths: string[]): AgentAction => ({ kind: 'probe', paths });

/** One literal event and what the agent makes of it: the actions, the log level and the log line. */
interface EventRow {
  readonly name: string;
  readonly event: DriftEvent;
  readonly actions: readonly AgentAction[];
  readonly level: EventLevel;
  readonly line: string;
}

const EVENT_ROWS: readonly EventRow[] = [
  // lower-grew: remount (new lower paths stay invisible until then), new baseline.
  {
    name: 'lower-grew by one path, live',
    event: watched({ type: 'lower-grew', paths: [p(HELLO)] }),
    actions: [{ kind: 'remount', request: { source: 'lower-grew', paths: [p(HELLO)] } }, REFRESH],
    level: 'warn',
    line: 'drift: the lower store grew by 1 path; a remount makes them visible',
  },
  {
    name: 'lower-grew by two paths since the last run',
    event: atStartup({ type: 'lower-grew', paths: [p(HELLO), p(LIBC)] }),
    actions: [{ kind: 'remount', request: { source: 'lower-grew', paths: [p(HELLO), p(LIBC)] } }, REFRESH],
    level: 'warn',
    line: 'drift: the lower store grew by 2 paths since the agent last ran; a remount makes them visible',
  },
  {
    name: 'lower-grew by 1,000 paths: one request carries them all',
    event: watched({ type: 'lower-grew', paths: MANY }),
    actions: [{ kind: 'remount', request: { source: 'lower-grew', paths: MANY } }, REFRESH],
    level: 'warn',
    line: 'drift: the lower store grew by 1000 paths; a remount makes them visible',
  },
  {
    name: 'lower-grew with an empty list (no watcher emits one): decided by its type',
    event: watched({ type: 'lower-grew', paths: [] }),
    actions: [{ kind: 'remount', request: { source: 'lower-grew', paths: [] } }, REFRESH],
    level: 'warn',
    line: 'drift: the lower store grew by 0 paths; a remount makes them visible',
  },
  // lower-shrank: probe the vanished paths (a cached view may still serve them), new baseline; error when closures break.
  {
    name: 'lower-shrank, no upper registration broken',
    event: watched({ type: 'lower-shrank', paths: [p(HELLO)], brokenUpperClosures: [] }),
    actions: [probe(p(HELLO)), REFRESH],
    level: 'warn',
    line: 'drift: the lower store lost 1 path; 0 upper registrations broken',
  },
  {
    name: 'lower-shrank, one upper registration broken',
    event: watched({
      type: 'lower-shrank',
      paths: [p(HELLO), p(LIBC)],
      brokenUpperClosures: [{ path: p(LIBC), registeredInUpper: true, referrers: [p(HELLO)] }],
    }),
    actions: [probe(p(HELLO), p(LIBC)), REFRESH],
    level: 'error',
    line: 'drift: the lower store lost 2 paths; 1 upper registration broken',
  },
  {
    name: 'lower-shrank since the last run, two upper registrations broken',
    event: atStartup({
      type: 'lower-shrank',
      paths: [p(HELLO), p(LIBC)],
      brokenUpperClosures: [
        { path: p(HELLO), registeredInUpper: false, referrers: [p(`${'c'.repeat(32)}-app`)] },
        { path: p(LIBC), registeredInUpper: true, referrers: [] },
      ],
    }),
    actions: [probe(p(HELLO), p(LIBC)), REFRESH],
    level: 'error',
    line: 'drift: the lower store lost 2 paths since the agent last ran; 2 upper registrations broken',
  },
  {
    name: 'lower-shrank while the upper DB is unreadable (closures unknown)',
    event: watched({ type: 'lower-shrank', paths: MANY, brokenUpperClosures: null }),
    actions: [probe(...MANY), REFRESH],
    level: 'error',
    line: 'drift: the lower store lost 1000 paths; upper closures unknown (upper DB unreadable)',
  },
  // lower-path-modified, lower-db-*: a new baseline; the log line and the event are the alert.
  ...(['replaced', 'changed', 'changed-or-replaced'] as const).map((detail) => ({
    name: `lower-path-modified (${detail})`,
    event: watched({ type: 'lower-path-modified', path: p(HELLO), detail }),
    actions: [REFRESH],
    level: 'warn' as const,
    line: `drift: lower store path ${p(HELLO)} was modified (${detail}) under the live overlay`,
  })),
  {
    name: 'lower-db-replaced (a new inode)',
    event: watched({ type: 'lower-db-replaced', change: 'replaced', before: DB, after: { ...DB, ino: '1002' } }),
    actions: [REFRESH],
    level: 'warn',
    line: 'drift: the lower DB was replaced',
  },
  {
    name: 'lower-db-replaced (appeared)',
    event: watched({ type: 'lower-db-replaced', change: 'appeared', before: null, after: DB }),
    actions: [REFRESH],
    level: 'warn',
    line: 'drift: the lower DB appeared',
  },
  {
    name: 'lower-db-replaced (vanished)',
    event: atStartup({ type: 'lower-db-replaced', change: 'vanished', before: DB, after: null }),
    actions: [REFRESH],
    level: 'warn',
    line: 'drift: the lower DB vanished',
  },
  {
    name: 'lower-db-modified',
    event: watched({ type: 'lower-db-modified', before: DB, after: { ...DB, walSize: 4096, walMtimeNs: '1700000000000000001' } }),
    actions: [REFRESH],
    level: 'warn',
    line: 'drift: the lower DB changed under the live overlay',
  },
  // A lower DB that is no Nix DB any more: Nix cannot open the lower store, so an error, saying what the file is.
  {
    name: 'lower-db-replaced by a file that is not SQLite',
    event: watched({ type: 'lower-db-replaced', change: 'replaced', before: DB, after: { ...DB, ino: '1002', validPaths: null, content: 'not-sqlite' } }),
    actions: [REFRESH],
    level: 'error',
    line: `drift: the lower DB was replaced; ${DB.file} is now not an SQLite database, so Nix cannot open the lower store`,
  },
  {
    name: 'lower-db-replaced by a Nix DB (the content said)',
    event: watched({ type: 'lower-db-replaced', change: 'replaced', before: DB, after: { ...DB, ino: '1002', content: 'nix-db' } }),
    actions: [REFRESH],
    level: 'warn',
    line: 'drift: the lower DB was replaced',
  },
  {
    name: 'lower-db-modified: truncated to nothing',
    event: watched({ type: 'lower-db-modified', before: DB, after: { ...DB, size: 0, validPaths: null, content: 'empty' } }),
    actions: [REFRESH],
    level: 'error',
    line: `drift: the lower DB changed under the live overlay; ${DB.file} is now empty (0 bytes), so Nix cannot open the lower store`,
  },
  {
    name: 'lower-db-replaced (appeared) with another schema',
    event: atStartup({ type: 'lower-db-replaced', change: 'appeared', before: null, after: { ...DB, validPaths: null, content: 'wrong-schema' } }),
    actions: [REFRESH],
    level: 'error',
    line: `drift: the lower DB appeared; ${DB.file} is now an SQLite database without Nix's schema, so Nix cannot open the lower store`,
  },
  // A daemon lower store: its valid paths changed.
  {
    name: 'lower-daemon-modified (live)',
    event: watched({ type: 'lower-daemon-modified', before: DAEMON, after: { ...DAEMON, validPaths: 6, digest: 'b'.repeat(64) } }),
    actions: [REFRESH],
    level: 'warn',
    line: "drift: the lower nix-daemon's valid paths changed under the live overlay (5 → 6)",
  },
  {
    name: 'lower-daemon-modified (startup)',
    event: atStartup({ type: 'lower-daemon-modified', before: DAEMON, after: { ...DAEMON, validPaths: 4, digest: 'c'.repeat(64) } }),
    actions: [REFRESH],
    level: 'warn',
    line: "drift: the lower nix-daemon's valid paths changed under the live overlay (5 → 4)",
  },
  // upper layer.
  {
    name: 'upper-path-added',
    event: watched({ type: 'upper-path-added', path: p(HELLO) }),
    actions: [],
    level: 'debug',
    line: `upper layer: ${p(HELLO)} added`,
  },
  {
    name: 'upper-path-deleted, an object the lower also has (stale view)',
    event: watched({ type: 'upper-path-deleted', path: p(HELLO), alsoInLower: true, entry: 'object' }),
    actions: [
      {
        kind: 'remount',
        request: { source: 'watcher', storePath: p(HELLO), upperPath: `/srv/upper/store/${HELLO}`, lowerPath: `/srv/lower/nix/store/${HELLO}` },
      },
      probe(p(HELLO)),
    ],
    level: 'warn',
    line: `stale view: the upper copy of ${p(HELLO)} was deleted directly while the lower store has it`,
  },
  {
    name: 'upper-path-deleted, an upper-only object',
    event: watched({ type: 'upper-path-deleted', path: p(HELLO), alsoInLower: false, entry: 'object' }),
    actions: [],
    level: 'info',
    line: `upper layer: ${p(HELLO)} deleted`,
  },
  {
    // Seen on kernel 6.18: after the whiteout goes, the merged view keeps answering ENOENT (a cached negative
    // dentry) until a remount; the probe sees that as lower-path-invisible and flags the remount itself.
    name: 'upper-path-deleted, a whiteout hiding a lower path (the lower copy may stay hidden)',
    event: watched({ type: 'upper-path-deleted', path: p(HELLO), alsoInLower: true, entry: 'whiteout' }),
    actions: [probe(p(HELLO))],
    level: 'warn',
    line: `stale view: the whiteout hiding ${p(HELLO)} was deleted directly; the merged view may keep hiding the lower copy until a remount`,
  },
  {
    name: 'upper-path-deleted, a whiteout with nothing below it',
    event: watched({ type: 'upper-path-deleted', path: p(HELLO), alsoInLower: false, entry: 'whiteout' }),
    actions: [],
    level: 'info',
    line: `upper layer: whiteout for ${p(HELLO)} deleted`,
  },
  {
    name: 'upper-whiteout-added hiding a lower path',
    event: watched({ type: 'upper-whiteout-added', path: p(HELLO), masksLower: true }),
    actions: [],
    level: 'info',
    line: `upper layer: whiteout for ${p(HELLO)} (hides a lower path)`,
  },
  {
    name: 'upper-whiteout-added for an upper-only path',
    event: watched({ type: 'upper-whiteout-added', path: p(HELLO), masksLower: false }),
    actions: [],
    level: 'info',
    line: `upper layer: whiteout for ${p(HELLO)}`,
  },
  // mount-changed: re-run the mount check, whatever the change.
  ...(
    [
      ['mounted', UNMOUNTED, MOUNTED, 'mount: the merged store dir was mounted'],
      ['unmounted', MOUNTED, UNMOUNTED, 'mount: the merged store dir was unmounted'],
      [
        'remounted',
        MOUNTED,
        { ...MOUNTED, overlay: { ...MOUNTED.overlay!, mountId: 70 } },
        'mount: the merged store dir was remounted (another overlay mount replaced it)',
      ],
      [
        'options-changed',
        MOUNTED,
        { ...MOUNTED, overlay: { ...MOUNTED.overlay!, mountOptions: ['ro', 'relatime'] } },
        "mount: the merged store dir's mount options changed",
      ],
      [
        'stacked',
        MOUNTED,
        { ...MOUNTED, above: [{ ...MOUNTED.overlay!, mountId: 71, parentId: 65, fsType: 'tmpfs', source: 'cover' }] },
        'mount: another mount now covers the merged store dir',
      ],
      [
        'unstacked',
        { ...MOUNTED, above: [{ ...MOUNTED.overlay!, mountId: 71, parentId: 65, fsType: 'tmpfs', source: 'cover' }] },
        MOUNTED,
        'mount: nothing covers the merged store dir any more',
      ],
    ] as const
  ).map(([what, before, after, line]) => ({
    name: `mount-changed (${what})`,
    event: watched({ type: 'mount-changed', what, before, after }),
    actions: [RECHECK],
    level: 'warn' as const,
    line,
  })),
];

describe('decide/drift-decisions', () => {
  it('the table covers every drift event type', () => {
    assert.deepEqual([...new Set(EVENT_ROWS.map((r) => r.event.type))].sort(), [...DRIFT_EVENT_TYPES].sort());
  });

  describe('decideOnDrift', () => {
    for (const row of EVENT_ROWS) {
      it(`${row.name} → ${row.actions.length === 0 ? 'nothing' : row.actions.map((a) => a.kind).join(', ')}`, () => {
        assert.deepEqual(decideOnDrift(row.event, LAYOUT), row.actions);
      });
    }

    it('names the layer copies from the base name, whatever the form of the layout dirs and the event path', () => {
      const layout: DecisionLayout = { upperLayer: '/srv/upper/store/', lower: { realStoreDir: '/srv/lower/./nix/store' } };
      const [remount] = decideOnDrift(watched({ type: 'upper-path-deleted', path: `/custom/store/${HELLO}/`, alsoInLower: true, entry: 'object' }), layout);
      assert.deepEqual(remount, {
        kind: 'remount',
        request: {
          source: 'watcher',
          storePath: `/custom/store/${HELLO}/`,
          upperPath: `/srv/upper/store/${HELLO}`,
          lowerPath: `/srv/lower/nix/store/${HELLO}`,
        },
      });
    });

    it('decides on the event alone: the source (startup or watch) changes no action', () => {
      for (const row of EVENT_ROWS) {
        const other = { ...row.event, source: row.event.source === 'watch' ? 'startup' : 'watch' } as DriftEvent;
        assert.deepEqual(decideOnDrift(other, LAYOUT), row.actions, row.name);
      }
    });
  });

  describe('eventLevel', () => {
    for (const row of EVENT_ROWS) it(`${row.name} → ${row.level}`, () => assert.equal(eventLevel(row.event), row.level));
  });

  describe('describeDrift', () => {
    for (const row of EVENT_ROWS)
      it(`${row.name}: "${row.line.length > 60 ? `${row.line.slice(0, 60)}…` : row.line}"`, () => assert.equal(describeDrift(row.event), row.line));

    it('says "since the agent last ran" only for start-up events, and only for the lower store dir', () => {
      for (const row of EVENT_ROWS) {
        const line = describeDrift({ ...row.event, source: 'startup' } as DriftEvent);
        const type = row.event.type;
        assert.equal(line.includes('since the agent last ran'), type === 'lower-grew' || type === 'lower-shrank', row.name);
      }
    });

    it('is one line: no newline, even for 1,000 paths', () => {
      for (const row of EVENT_ROWS) assert.doesNotMatch(describeDrift(row.event), /\n/, row.name);
    });
  });
});

/** The three lstat results of one probed name (the name apart). */
type LayerStates = Omit<ProbeResult['view'], 'name'>;

/** lstat results for the literal probe reports. */
const file = (over: Partial<Extract<ObjectState, { kind: 'present' }>> = {}): ObjectState => ({
  kind: 'present',
  type: 'file',
  perm: 0o444,
  size: 5,
  mtimeNs: '1',
  nlink: 1,
  ...over,
});
const ABSENT: ObjectState = { kind: 'absent' };
const WHITEOUT: ObjectState = { kind: 'whiteout' };
const errno = (code: string): ObjectState => ({ kind: 'error', errno: code });

/** One probe result per stale reason: the view it comes from, the verdict, and the symptom the request names. */
const STALE_ROWS: Readonly<Record<StaleReason, { readonly view: LayerStates; readonly verdict: Verdict; readonly symptom: ProbeSymptom }>> = {
  estale: {
    view: { merged: errno('ESTALE'), upper: ABSENT, lower: file() },
    verdict: { state: 'stale', expected: 'lower', reason: 'estale' },
    symptom: 'estale',
  },
  'deleted-object-served': {
    view: { merged: file({ nlink: 0 }), upper: ABSENT, lower: file() },
    verdict: { state: 'stale', expected: 'lower', reason: 'deleted-object-served' },
    symptom: 'serves-deleted',
  },
  'served-but-absent-from-layers': {
    view: { merged: file(), upper: ABSENT, lower: ABSENT },
    verdict: { state: 'stale', expected: 'none', reason: 'served-but-absent-from-layers' },
    symptom: 'serves-deleted',
  },
  'whiteout-ignored': {
    view: { merged: file(), upper: WHITEOUT, lower: file() },
    verdict: { state: 'stale', expected: 'none', reason: 'whiteout-ignored' },
    symptom: 'content-mismatch',
  },
  'lower-path-invisible': {
    view: { merged: ABSENT, upper: ABSENT, lower: file() },
    verdict: { state: 'stale', expected: 'lower', reason: 'lower-path-invisible' },
    symptom: 'missing-lower',
  },
  'upper-path-invisible': {
    view: { merged: ABSENT, upper: file(), lower: ABSENT },
    verdict: { state: 'stale', expected: 'upper', reason: 'upper-path-invisible' },
    symptom: 'content-mismatch',
  },
  'attributes-differ': {
    view: { merged: file({ size: 0, mtimeNs: '2' }), upper: ABSENT, lower: file() },
    verdict: { state: 'stale', expected: 'lower', reason: 'attributes-differ', differences: ['size 0 ≠ 5', 'mtime 2 ≠ 1 ns'] },
    symptom: 'content-mismatch',
  },
};

/** Verdicts that are not stale: the probe keeps them out of `stale`. */
const NOT_STALE_ROWS: readonly { readonly name: string; readonly view: LayerStates; readonly verdict: Verdict }[] = [
  { name: 'fresh (served by the lower)', view: { merged: file(), upper: ABSENT, lower: file() }, verdict: { state: 'fresh', expected: 'lower' } },
  { name: 'fresh (hidden by a whiteout)', view: { merged: ABSENT, upper: WHITEOUT, lower: file() }, verdict: { state: 'fresh', expected: 'none' } },
  {
    name: 'inconclusive (stat failed)',
    view: { merged: errno('EACCES'), upper: ABSENT, lower: file() },
    verdict: { state: 'inconclusive', reason: 'stat-failed', errno: 'EACCES' },
  },
];

const result = (name: string, view: LayerStates, verdict: Verdict): ProbeResult => ({ name, verdict, view: { name, ...view } });
/** A report as probeStaleView makes it: `stale` holds the results whose verdict is stale. */
const reportOf = (results: readonly ProbeResult[], skipped: readonly string[] = []): ProbeReport => ({
  results,
  stale: results.filter((r) => r.verdict.state === 'stale'),
  skipped,
});

describe('decide/drift-decisions: decideOnProbe', () => {
  it('the literal views are ones the probe judges that way (judgeView agrees with every row)', () => {
    for (const [reason, row] of Object.entries(STALE_ROWS)) assert.deepEqual(judgeView({ name: HELLO, ...row.view }), row.verdict, reason);
    for (const row of NOT_STALE_ROWS) assert.deepEqual(judgeView({ name: HELLO, ...row.view }), row.verdict, row.name);
  });

  for (const [reason, row] of Object.entries(STALE_ROWS)) {
    it(`stale (${reason}) → one probe remount request, symptom ${row.symptom}`, () => {
      const actions = decideOnProbe(reportOf([result(HELLO, row.view, row.verdict)]), '/nix/store');
      assert.deepEqual(actions, [{ kind: 'remount', request: { source: 'probe', path: p(HELLO), symptom: row.symptom, detail: reason } }]);
    });
  }

  for (const row of NOT_STALE_ROWS) {
    it(`${row.name} → nothing`, () => assert.deepEqual(decideOnProbe(reportOf([result(HELLO, row.view, row.verdict)]), '/nix/store'), []));
  }

  it('an inconclusive result because a layer kept changing → nothing', () => {
    const verdict: Verdict = { state: 'inconclusive', reason: 'changed-during-probe' };
    assert.deepEqual(decideOnProbe(reportOf([result(HELLO, { merged: file(), upper: file(), lower: ABSENT }, verdict)]), '/nix/store'), []);
  });

  it('an empty report, or one with only skipped names → nothing', () => {
    assert.deepEqual(decideOnProbe(reportOf([]), '/nix/store'), []);
    assert.deepEqual(decideOnProbe(reportOf([], ['.links', 'not-a-store-path']), '/nix/store'), []);
  });

  it('one request per stale result, in the order of the report, fresh ones left out (1,000 results)', () => {
    const rows = Object.values(STALE_ROWS);
    const names = MANY.map((m) => m.slice('/nix/store/'.length));
    const results = names.map((name, i) =>
      i % 3 === 2
        ? result(name, NOT_STALE_ROWS[0]!.view, NOT_STALE_ROWS[0]!.verdict)
        : result(name, rows[i % rows.length]!.view, rows[i % rows.length]!.verdict),
    );
    const actions = decideOnProbe(reportOf(results), '/nix/store');
    const expected = results.filter((r) => r.verdict.state === 'stale').map((r) => p(r.name));
    assert.equal(actions.length, expected.length);
    assert.deepEqual(
      actions.map((a) => (a.kind === 'remount' && a.request.source === 'probe' ? a.request.path : a.kind)),
      expected,
    );
  });

  it('joins the name onto the store dir it is given (a custom dir, a trailing slash)', () => {
    const row = STALE_ROWS.estale;
    const report = reportOf([result(HELLO, row.view, row.verdict)]);
    for (const [storeDir, path] of [
      ['/nix/store/', p(HELLO)],
      ['/gnu/store', `/gnu/store/${HELLO}`],
      ['/nix//store', p(HELLO)],
    ] as const) {
      const [action] = decideOnProbe(report, storeDir);
      assert.equal(action?.kind === 'remount' && action.request.source === 'probe' ? action.request.path : undefined, path, storeDir);
    }
  });

  it('trusts `stale` as given: a non-stale verdict put there (no probe does) is a content mismatch naming its state', () => {
    const odd = result(HELLO, NOT_STALE_ROWS[2]!.view, NOT_STALE_ROWS[2]!.verdict);
    assert.deepEqual(decideOnProbe({ results: [odd], stale: [odd], skipped: [] }, '/nix/store'), [
      { kind: 'remount', request: { source: 'probe', path: p(HELLO), symptom: 'content-mismatch', detail: 'inconclusive' } },
    ]);
  });
});
