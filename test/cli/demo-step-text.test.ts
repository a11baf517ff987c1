import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoStepText } from '../../agent/cli/commands/demo-step-text.ts';
import type { JsonEnvelope } from '../../agent/cli/json-envelope.ts';
import { buildDemoStore, type DemoStore } from '../../agent/demo/index.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { runCliCaptured } from '../support/cli-run.ts';

/** The demo shows each step's text made from its one `--json` run: it must be what the command prints without `--json`. */
describe("the demo's step text", function () {
  let tmp: string;
  let store: DemoStore;

  before(async function () {
    tmp = mkdtempSync(join(tmpdir(), 'demo-step-text-'));
    store = await buildDemoStore(join(tmp, 'store'), { lowerPaths: 10, upperPaths: 3, duplicates: 1 });
  });

  after(function () {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it('layout: the same text as the command prints', async function () {
    const env = {};
    const text = await runCliCaptured(['layout', '--store', store.storeUrl, '--state-dir', join(tmp, 'state')], env);
    const json = await runCliCaptured(['layout', '--store', store.storeUrl, '--state-dir', join(tmp, 'state'), '--json'], env);
    assert.equal(text.code, 0, text.stderr);
    const layout = loadConfig({ flags: { store: store.storeUrl }, env }).layout;
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env };
    assert.equal(demoStepText(io, JSON.parse(json.stdout) as JsonEnvelope, layout), text.stdout);
  });

  it('an error envelope: its message, code and hint, as printError words them', function () {
    const layout = loadConfig({ flags: { store: store.storeUrl }, env: {} }).layout;
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };
    const envelope: JsonEnvelope = {
      command: 'status',
      ok: false,
      exitCode: 3,
      findings: [],
      result: null,
      error: { code: 'CONTROL_NO_AGENT', message: 'no agent is running', evidence: {}, hint: 'start it' },
    };
    assert.equal(demoStepText(io, envelope, layout), 'overlay-warden: no agent is running [CONTROL_NO_AGENT]\nhint: start it\n');
  });
});
