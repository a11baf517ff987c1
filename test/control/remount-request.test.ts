import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlError, startControlServer, type ControlResponse } from '../../agent/control/index.ts';
import {
  judgeRemountAnswer,
  parseRemountRequestArgs,
  REMOUNT_REQUEST_EXIT,
  requestRemount,
  type RemountRequestArgs,
} from '../../agent/control/remount-request.ts';

const MAIN = fileURLToPath(new URL('../../agent/control/remount-request-main.ts', import.meta.url));
const args: RemountRequestArgs = { socketPath: '/run/ow/control.sock', mergedStoreDir: '/nix/store', timeoutMs: 900_000 };
const ok = (result: unknown): { response: ControlResponse } => ({ response: { id: 1, ok: true, result } });
const refused = (code: string, message: string, hint?: string): { response: ControlResponse } => ({
  response: { id: 1, ok: false, error: { code, message, ...(hint === undefined ? {} : { hint }) } },
});
const outcome = { run: 3, status: 'remounted', fresh: true, attempts: 1, requests: 1 };

describe('control/remount-request (the Nix hook asking the agent)', () => {
  describe('parseRemountRequestArgs', () => {
    const cases: ReadonlyArray<readonly [readonly string[], RemountRequestArgs | undefined]> = [
      [['/s', '/m'], { socketPath: '/s', mergedStoreDir: '/m', timeoutMs: 900_000 }],
      [['/s', '/m', '2.5'], { socketPath: '/s', mergedStoreDir: '/m', timeoutMs: 2500 }],
      [['/s', '/m', '1e9'], { socketPath: '/s', mergedStoreDir: '/m', timeoutMs: 2 ** 31 - 1 }],
      [[], undefined],
      [['/s'], undefined],
      [['', '/m'], undefined],
      [['/s', '/m', '0'], undefined],
      [['/s', '/m', '-1'], undefined],
      [['/s', '/m', 'soon'], undefined],
      [['/s', '/m', 'Infinity'], undefined],
      [['/s', '/m', '5', 'extra'], undefined],
    ];
    for (const [argv, expected] of cases) it(JSON.stringify(argv), () => assert.deepEqual(parseRemountRequestArgs(argv), expected));
  });

  describe('judgeRemountAnswer', () => {
    const cases: ReadonlyArray<readonly [string, Parameters<typeof judgeRemountAnswer>[1], number, RegExp]> = [
      ['a fresh remount: 0, on stdout', ok(outcome), 0, /^the agent remounted \/nix\/store \(run 3, 1 attempt\); the view is fresh$/],
      ['a coalesced fresh remount says so', ok({ ...outcome, attempts: 2, requests: 3 }), 0, /\(run 3, 2 attempts, together with 2 other requests\)/],
      [
        'a failed remount: 1, with its error and hint',
        ok({
          ...outcome,
          status: 'failed',
          fresh: false,
          attempts: 3,
          error: { code: 'REMOUNT_COMMAND_FAILED', message: 'mount exited 32', hint: 'see dmesg' },
        }),
        1,
        /^the agent's remount failed after 3 attempts: mount exited 32\nhint: see dmesg$/,
      ],
      ['a remount not checked fresh: 1', ok({ ...outcome, fresh: false }), 1, /^the agent's remount remounted after 1 attempt: no details$/],
      ['an answer without an outcome: 1', ok(null), 1, /^the agent's remount failed after \? attempts/],
      [
        'another store: 69, so the hook remounts directly',
        refused('CONTROL_WRONG_STORE', 'this agent supervises /a, not /b'),
        69,
        /supervises another store \(this agent supervises \/a, not \/b\)/,
      ],
      [
        'a refusal: 1, with its code and hint',
        refused('CONTROL_BAD_REQUEST', 'bad field', 'fix it'),
        1,
        /^the agent refused: bad field \[CONTROL_BAD_REQUEST\]\nhint: fix it$/,
      ],
      [
        'no agent: 69',
        { error: new ControlError('CONTROL_NO_AGENT', 'no agent answers on /run/ow/control.sock (ECONNREFUSED)') },
        69,
        /no agent answers on .* \(ECONNREFUSED\)/,
      ],
      ['no answer in time: 75', { error: new ControlError('CONTROL_TIMEOUT', 'the agent did not answer') }, 75, /did not answer/],
      [
        'not allowed on the socket: 1, with the hint',
        { error: new ControlError('CONTROL_PERMISSION_DENIED', 'not allowed', { hint: 'run as root' }) },
        1,
        /^cannot talk to the agent on \/run\/ow\/control.sock: not allowed \[CONTROL_PERMISSION_DENIED\]\nhint: run as root$/,
      ],
      ['anything else thrown: 1', { error: new TypeError('boom') }, 1, /^cannot talk to the agent on \/run\/ow\/control.sock: boom$/],
    ];
    for (const [what, answer, status, text] of cases) {
      it(what, () => {
        const result = judgeRemountAnswer(args, answer);
        assert.equal(result.status, status);
        assert.match((status === 0 ? result.stdout : result.stderr) ?? '', text);
        assert.equal(status === 0 ? result.stderr : result.stdout, undefined);
      });
    }
  });

  describe('against a real control socket', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'ow-remount-request-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('sends a nix-hook remount request for the merged store dir, and judges the outcome', async () => {
      const socketPath = join(dir, 'answering.sock');
      const received: unknown[] = [];
      const server = await startControlServer({ socketPath, handlers: { remount: (request) => (received.push(request), outcome) } });
      try {
        const result = await requestRemount({ socketPath, mergedStoreDir: '/m/nix/store', timeoutMs: 60_000 });
        assert.deepEqual(result, { status: REMOUNT_REQUEST_EXIT.fresh, stdout: 'the agent remounted /m/nix/store (run 3, 1 attempt); the view is fresh' });
        assert.deepEqual(
          received.map((r) => ({ ...(r as object), id: undefined })),
          [{ action: 'remount', source: 'nix-hook', mergedStoreDir: '/m/nix/store', id: undefined }],
        );
      } finally {
        await server.close();
      }
    });

    it('gives up with 75 when the agent does not answer in time', async () => {
      const socketPath = join(dir, 'silent.sock');
      const server = await startControlServer({ socketPath, handlers: { remount: () => new Promise(() => {}) } });
      try {
        const result = await requestRemount({ socketPath, mergedStoreDir: '/m/nix/store', timeoutMs: 300 });
        assert.equal(result.status, REMOUNT_REQUEST_EXIT.timeout);
        assert.match(result.stderr ?? '', /did not answer "remount" within 300 ms/);
      } finally {
        await server.close();
      }
    });

    it('the entry point exits with the status: 64 on bad usage, 69 with no agent', () => {
      const usage = spawnSync(process.execPath, [MAIN, '/s'], { encoding: 'utf8' });
      assert.equal(usage.status, 64);
      assert.match(usage.stderr, /^nix-remount-hook: usage: /);
      const none = spawnSync(process.execPath, [MAIN, join(dir, 'absent.sock'), '/m'], { encoding: 'utf8' });
      assert.equal(none.status, 69);
      assert.match(none.stderr, /^nix-remount-hook: no agent answers on .*absent\.sock \(ENOENT\)\n$/);
    });
  });
});
