/**
 * The alerts service on an agent's event stream (the agent's own emitter type, events as the agent emits them):
 * drift held for `driftHoldSeconds` resolves by itself; `baseline` resolves drift at once; `onDelivery` counts each
 * delivery and failure for the metrics.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Agent, AgentEventMap } from '../../agent/agent.ts';
import type { AgentStatusSections } from '../../agent/agent-status.ts';
import { alertsService, type AlertsStatus, type WebhookBody } from '../../agent/alerts/index.ts';
import { loadConfig } from '../../agent/config/index.ts';
import { createLogger } from '../../agent/log/index.ts';
import { waitFor } from '../support/wait-for.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const STORE = 'local-overlay?lower-store=%2Fmnt%2Fcacache&upper-layer=/mnt/nix/store&check-mount=false';

/** What the service uses of an agent: its events and extendStatus. */
class AgentEvents extends EventEmitter<AgentEventMap> {
  sections: (() => AgentStatusSections)[] = [];
  extendStatus(section: () => AgentStatusSections): void {
    this.sections.push(section);
  }
  alerts(): AlertsStatus {
    return Object.assign({}, ...this.sections.map((s) => s())).alerts as AlertsStatus;
  }
}

describe('alerts: the service on the agent events', function () {
  let dir: string;
  let hook: WebhookReceiver;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-alerts-service-'));
    hook = await WebhookReceiver.start();
  });
  afterEach(async () => {
    await hook.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(alerts: Record<string, unknown>, onDelivery?: (sink: string, outcome: string) => void) {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(
      file,
      JSON.stringify({ stateDir: path.join(dir, 'state'), http: { address: 'off' }, alerts: { webhooks: [{ url: hook.url }], ...alerts } }),
      {
        mode: 0o600,
      },
    );
    const config = loadConfig({ flags: { config: file, store: STORE }, env: {} });
    const logger = createLogger({ level: 'error', format: 'json', stream: new PassThrough() });
    const agent = new AgentEvents();
    const service = await alertsService(onDelivery === undefined ? {} : { onDelivery })(agent as unknown as Agent, { config, logger, env: {} });
    return { agent, service };
  }
  const statuses = (): string[] => hook.bodies<WebhookBody>().flatMap((b) => b.alerts.map((a) => `${a.labels['alertname']} ${a.status}`));
  const grew = { type: 'lower-grew', source: 'watch', at: new Date().toISOString(), paths: ['/nix/store/x-y'] } as const;

  it('drift resolves by itself once driftHoldSeconds pass without new drift', async () => {
    const { agent, service } = await start({ resendSeconds: 1, driftHoldSeconds: 0.5 });
    try {
      agent.emit('drift', grew);
      await waitFor(() => statuses().includes('OverlayWardenLowerStoreDrifted resolved'), 'the drift resolved after the hold time');
      assert.equal(statuses()[0], 'OverlayWardenLowerStoreDrifted firing');
      assert.deepEqual(agent.alerts().firing, []);
    } finally {
      await service.close();
    }
  });

  it('without a hold time drift stays until baseline is accepted; onDelivery counts deliveries and failures', async () => {
    const outcomes: string[] = [];
    const { agent, service } = await start({ resendSeconds: 60, backoffSeconds: 0.05, maxBackoffSeconds: 0.1 }, (sink, outcome) =>
      outcomes.push(`${sink} ${outcome}`),
    );
    try {
      hook.failing = true;
      agent.emit('drift', grew);
      await waitFor(() => outcomes.includes('webhook#1 failed'), 'a failed delivery counted');
      hook.failing = false;
      await waitFor(() => statuses().includes('OverlayWardenLowerStoreDrifted firing'), 'the drift delivered');
      assert.equal(agent.alerts().firing.length, 1);
      agent.emit('baseline', { type: 'baseline-accepted', at: new Date().toISOString(), by: 'test', paths: 1 });
      await waitFor(() => statuses().includes('OverlayWardenLowerStoreDrifted resolved'), 'the drift resolved on accept');
      assert.ok(outcomes.includes('webhook#1 delivered'));
      assert.deepEqual(agent.alerts().firing, []);
    } finally {
      await service.close();
    }
  });
});
