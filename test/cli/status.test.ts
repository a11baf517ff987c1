/**
 * `overlay-warden status`: it needs only the control socket (no store configuration), exits 3 with a hint to start
 * the agent when none answers, and its text shows each recent drift event with what it was about.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventLines, layerRows, mountVerdict } from '../../agent/cli/commands/status.ts';
import { finding } from '../../agent/findings/index.ts';
import type { DriftEvent } from '../../agent/watch/index.ts';
import { AgentScenario, driftLine, remountLine, runCli, type AgentChild } from '../support/agent-child.ts';
import { runCliCaptured } from '../support/cli-run.ts';
import { parseEnvelope } from '../support/json-output.ts';
import { parseAssignments, requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';

describe('overlay-warden status', function () {
  this.timeout(120_000);

  describe('with no agent running', () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-status-cli-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('exits 3 (not 1, the invalid mount) with a hint to start the agent', async () => {
      const socket = path.join(dir, 'control.sock');
      const run = await runCliCaptured(['status', '--socket', socket]);
      assert.equal(run.code, 3);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`no agent is running: nothing answers on ${socket} \\(ENOENT\\) \\[CONTROL_NO_AGENT\\]`));
      assert.match(run.stderr, /hint: start it: systemctl start overlay-warden .*, or overlay-warden run\. The socket asked is --socket/);
    });

    it('needs no store configuration: a store that cannot be resolved neither stops it nor changes its exit code', async () => {
      const socket = path.join(dir, 'control.sock');
      for (const store of [
        ['--store', 'local-overlay://?lower-store=/l'],
        ['--nix-conf', path.join(dir, 'no-nix.conf')],
      ]) {
        const run = await runCliCaptured(['status', '--json', '--socket', socket, ...store]);
        assert.equal(run.code, 3, run.stderr);
        assert.equal(parseEnvelope(run.stdout, 'status').error?.code, 'CONTROL_NO_AGENT');
      }
      // Without --socket: OVERLAY_WARDEN_SOCKET (as for the Nix hook), else the configuration's control.socket, else
      // the default one when the configuration's store cannot be resolved.
      const fromEnv = await runCliCaptured(['status', '--json', '--store', 'local-overlay://?lower-store=/l'], { OVERLAY_WARDEN_SOCKET: socket });
      assert.deepEqual([fromEnv.code, parseEnvelope(fromEnv.stdout).error?.evidence['socketPath']], [3, socket]);
      const file = path.join(dir, 'overlay-warden.yaml');
      fs.writeFileSync(file, `control:\n  socket: ${socket}\nstore:\n  url: local-overlay://?lower-store=/l&upper-layer=/u\n`, { mode: 0o600 });
      const fromConfig = await runCliCaptured(['status', '--json', '--config', file]);
      assert.deepEqual([fromConfig.code, parseEnvelope(fromConfig.stdout).error?.evidence['socketPath']], [3, socket]);
      const fallback = await runCliCaptured(['status', '--json', '--config', file, '--store', 'local-overlay://?lower-store=/l']);
      const { evidence } = parseEnvelope(fallback.stdout).error!;
      assert.deepEqual([fallback.code, evidence['socketPath']], [3, '/run/overlay-warden/control.sock']);
      assert.match(evidence['socketFrom'] as string, /^the default control\.socket \(the configuration describes no usable store\)/);
      assert.equal(
        (await runCliCaptured(['status'], { OVERLAY_WARDEN_CONFIG: path.join(dir, 'absent.yaml') })).code,
        2,
        'a config file that is not there is an error',
      );
    });
  });

  describe('with the agent running', () => {
    let s: AgentScenario | undefined;
    let agent: AgentChild;
    let added: string;

    before(async function () {
      requireNixOverlayFixture(this);
      s = await AgentScenario.create();
      s.writeConfig();
      agent = await s.startAgent();
      added = parseAssignments(s.ns.bash('cd "$(dirname "$EXPR")"; echo grown > grown-file; echo added=$(nix-store --store "$A" --add grown-file)'))['added']!;
      await agent.waitForLog(driftLine('lower-grew'), 'lower-grew');
      await agent.waitForLog(remountLine('remount-verified'), 'the remount after the growth');
    });
    after(async () => s?.close());

    it('asks the socket named by --socket alone, whatever the store settings say', async () => {
      const run = await runCli(['status', '--socket', s!.socket, '--store', 'local-overlay://?lower-store=/l']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`control socket\\s+${s!.socket}`));
    });

    it('shows each recent event with what it was about: its sentence and its paths', async () => {
      const run = await runCli(['status', '--config', s!.configFile]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /mount\s+valid \(checked /);
      assert.match(run.stdout, /remount\s+not needed \(1 remount done\)/);
      assert.match(run.stdout, /last remount\s+remounted at \S+ \(1 attempt\)/);
      assert.match(run.stdout, /recent events \(\d+ events?, oldest first\):\n/);
      assert.match(run.stdout, new RegExp(`\\n  \\S+  drift: the lower store grew by 1 path; a remount makes them visible\\n      ${added}\\n`));
    });
  });

  it('lists at most 5 paths of an event in text, then how many more', () => {
    const paths = Array.from({ length: 7 }, (_, i) => `/nix/store/${String(i).repeat(32)}-p`);
    const event: DriftEvent = { type: 'lower-grew', source: 'watch', at: '2025-01-01T00:00:00.000Z', paths };
    assert.deepEqual(eventLines(event), [
      '2025-01-01T00:00:00.000Z  drift: the lower store grew by 7 paths; a remount makes them visible',
      ...paths.slice(0, 5).map((p) => `    ${p}`),
      '    … and 2 more (--json lists all)',
    ]);
  });
});

describe('status: the mount row', () => {
  const at = '2025-01-01T00:00:00.000Z';
  const low = finding('layer.upper-low-space', 'warning', 'little space', { path: '/upper' });
  const inodes = finding('layer.upper-low-inodes', 'warning', 'few inodes', { path: '/upper' });
  const notMounted = finding('mount.not-mounted', 'error', 'not mounted', {});

  it('says valid, in green, only when the latest check found neither error nor warning', () => {
    assert.deepEqual(mountVerdict({ mountValid: true, lastCheck: { at, errors: 0, warnings: 0, findings: [] } }), {
      style: 'green',
      text: `valid (checked ${at})`,
    });
  });

  it('names the warnings of a valid mount, so a filling upper layer shows', () => {
    assert.deepEqual(mountVerdict({ mountValid: true, lastCheck: { at, errors: 0, warnings: 2, findings: [low, inodes] } }), {
      style: 'yellow',
      text: `valid (checked ${at}, 2 warnings: layer.upper-low-space, layer.upper-low-inodes)`,
    });
  });

  it('counts the errors of an invalid mount, and says when no check ran yet', () => {
    assert.deepEqual(mountVerdict({ mountValid: false, lastCheck: { at, errors: 1, warnings: 1, findings: [notMounted, low] } }), {
      style: 'red',
      text: `invalid (checked ${at}: 1 error, 1 warning)`,
    });
    assert.deepEqual(mountVerdict({ mountValid: false, lastCheck: undefined }), { style: 'yellow', text: 'not checked yet' });
  });
});

describe('status: the layer rows', () => {
  it('one row per layer: filesystem, device, free of size, read-only; disk I/O while work runs', () => {
    const rows = layerRows({
      collectedAt: 'T',
      layers: [
        {
          layer: 'lower',
          path: '/l',
          mount: '/mnt',
          device: '/dev/sdb1',
          fsType: 'xfs',
          sizeBytes: 4 * 1024 ** 3,
          availableBytes: 1024 ** 3,
          readOnly: true,
          blockDevice: { name: 'sdb1', type: 'part', model: 'Disk', removable: false },
        },
        { layer: 'upper', path: '/u' },
      ],
      io: { at: 'T', readBytesPerSecond: 50 * 1024 ** 2, writeBytesPerSecond: 0 },
    });
    assert.deepEqual(rows, [
      ['lower layer', 'xfs on /dev/sdb1 (part Disk) at /mnt, 1.00 GiB free of 4.00 GiB, read-only'],
      ['upper layer', '/u (no filesystem found)'],
      ['disk I/O', 'read 50.0 MiB/s, write 0 B/s (while work runs)'],
    ]);
    assert.deepEqual(layerRows({ layers: [{ layer: 'upper', path: '/u' }] }), [['upper layer', '/u (not looked at yet)']]);
    assert.deepEqual(layerRows(undefined), []);
  });
});
