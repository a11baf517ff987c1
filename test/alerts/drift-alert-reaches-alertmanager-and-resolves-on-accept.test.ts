/**
 * End to end against the real Alertmanager: a lower-store change under a running agent reaches Alertmanager's
 * `/api/v2/alerts` with the right labels; a restart of the agent neither duplicates nor forgets it; `baseline
 * --accept` resolves it. A webhook receiver checks the payload's shape and HMAC; a second one, down at first, shows
 * that the agent keeps running, retries, counts the failures, and delivers once it is back.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AlertsStatus, WebhookBody } from '../../agent/alerts/index.ts';
import { AgentScenario, runCli, type AgentChild } from '../support/agent-child.ts';
import { Alertmanager, requireAlertmanager, type GettableAlert } from '../support/alertmanager.ts';
import { parseEnvelope } from '../support/json-output.ts';
import { requireNixOverlayFixture } from '../support/nix-overlay-fixture.ts';
import { waitFor } from '../support/wait-for.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const DRIFTED = 'OverlayWardenLowerStoreDrifted';
const SECRET = 'a webhook secret for the test';
const NEW_PATH = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-drift-alert-test';
const ENV: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1' };

describe('alerts: lower-store drift reaches Alertmanager and a webhook, survives a restart, resolves on baseline --accept', function () {
  this.timeout(180_000);
  let s: AgentScenario | undefined;
  let am: Alertmanager | undefined;
  let hook: WebhookReceiver | undefined;
  let down: WebhookReceiver | undefined;
  let agent: AgentChild;
  let firstAlert: GettableAlert;

  const describeAll = (): string => `${agent?.describe() ?? ''}\n${am?.describe() ?? ''}`;
  const alertsStatus = async (): Promise<AlertsStatus> => (await s!.status()).alerts as AlertsStatus;
  const driftBodies = (receiver: WebhookReceiver): WebhookBody['alerts'][number][] =>
    receiver.bodies<WebhookBody>().flatMap((b) => b.alerts.filter((a) => a.labels['alertname'] === DRIFTED));

  before(async function () {
    requireNixOverlayFixture(this);
    requireAlertmanager(this);
    am = await Alertmanager.start();
    hook = await WebhookReceiver.start();
    down = await WebhookReceiver.start();
    down.failing = true;
    s = await AgentScenario.create();
    const secretFile = path.join(s.fixture.dir, 'webhook-secret');
    fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    s.writeConfig({
      alerts: {
        webhooks: [{ url: down.url }],
        resendSeconds: 2,
        backoffSeconds: 0.1,
        maxBackoffSeconds: 0.5,
        sinkFailingAfter: 2,
        labels: { instance: 'test-agent' },
      },
    });
    // The common case on the command line: Alertmanager, and the signed webhook (added after the configured one).
    agent = await s.startAgent(s.configFile, ['--alertmanager-url', am.url, '--webhook-url', hook.url, '--webhook-secret-file', secretFile]);
  });
  after(async () => {
    await s?.close();
    await Promise.allSettled([am?.stop(), hook?.close(), down?.close()]);
  });

  it('a lower-store change reaches Alertmanager with the right labels and annotations', async () => {
    s!.ns.bash(`mkdir "$A/nix/store/${NEW_PATH}"`);
    const [alert] = await waitFor(
      async () => {
        const active = await am!.active(DRIFTED);
        return active.length > 0 ? active : undefined;
      },
      'the drift alert in Alertmanager',
      { describe: describeAll },
    );
    firstAlert = alert!;
    const store = (await s!.status()).mergedStoreDir;
    assert.deepEqual(alert!.labels, { alertname: DRIFTED, change: 'grew', instance: 'test-agent', severity: 'warning', store });
    assert.match(alert!.annotations['summary']!, /^the lower store grew by 1 path$/);
    assert.equal(alert!.annotations['evidence'], `/nix/store/${NEW_PATH}`);
    assert.match(alert!.annotations['runbook']!, /README\.md#alert-lower-store-drifted$/);
    assert.match(alert!.annotations['hint']!, /baseline --accept/);
    assert.equal(alert!.status.state, 'active');
  });

  it('the webhook gets the same alert as JSON, signed with HMAC-SHA256 over the exact body', async () => {
    const request = await waitFor(() => hook!.received.find((r) => r.body.includes(DRIFTED)), 'the drift alert at the webhook', { describe: describeAll });
    const expected = `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`;
    assert.equal(request.headers['x-overlay-warden-signature'], expected);
    assert.equal(request.headers['content-type'], 'application/json');
    const body = JSON.parse(request.body) as WebhookBody;
    assert.deepEqual(Object.keys(body), ['version', 'sender', 'sentAt', 'alerts']);
    assert.deepEqual([body.version, body.sender], [1, 'overlay-warden']);
    const alert = body.alerts.find((a) => a.labels['alertname'] === DRIFTED)!;
    assert.deepEqual(Object.keys(alert), ['status', 'fingerprint', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL']);
    assert.deepEqual([alert.status, alert.endsAt, alert.startsAt], ['firing', null, firstAlert.startsAt]);
    assert.equal(alert.labels['change'], 'grew');
  });

  it('a sink that is down: the agent keeps running, retries, counts failures, raises SinkFailing, and delivers once it is back', async () => {
    const failing = await waitFor(
      async () => {
        const sink = (await alertsStatus()).sinks.find((x) => x.name === 'webhook#1');
        return sink !== undefined && sink.failures >= 3 && sink.state === 'failing' ? sink : undefined;
      },
      'failures of the sink that is down',
      { describe: describeAll },
    );
    assert.equal(failing.lastError?.code, 'ALERT_SINK_HTTP');
    assert.equal(failing.deliveries, 0);
    assert.ok(down!.refused >= 3, 'each failure was a real attempt');
    assert.ok(agent.lines((l) => /^alert delivery to webhook#1 failed: .*HTTP 503; retrying in \d+ ms$/.test(l.message)).length >= 3, agent.describe());
    // The failing sink is an alert itself, delivered by the others.
    const sinkAlert = await waitFor(async () => (await am!.active('OverlayWardenSinkFailing'))[0], 'OverlayWardenSinkFailing in Alertmanager', {
      describe: describeAll,
    });
    assert.equal(sinkAlert.labels['sink'], 'webhook#1');
    assert.ok(agent.running);

    down!.failing = false;
    await waitFor(() => driftBodies(down!).find((a) => a.status === 'firing'), 'the drift alert at the sink once back', { describe: describeAll });
    const back = await waitFor(
      async () => {
        const sink = (await alertsStatus()).sinks.find((x) => x.name === 'webhook#1');
        return sink?.state === 'ok' ? sink : undefined;
      },
      'the sink to be ok again',
      { describe: describeAll },
    );
    assert.ok(back.failures >= 3 && back.deliveries >= 1 && back.consecutiveFailures === 0);
    await waitFor(async () => (await am!.active('OverlayWardenSinkFailing')).length === 0, 'OverlayWardenSinkFailing resolved', { describe: describeAll });
  });

  it('status shows the firing alert and the sinks without any secret', async () => {
    const status = await s!.status();
    const text = JSON.stringify(status);
    assert.ok(!text.includes(SECRET), 'the webhook secret never appears in status');
    const alerts = status.alerts as AlertsStatus;
    assert.deepEqual(
      alerts.firing.map((a) => [a.alertname, a.labels['change']]),
      [[DRIFTED, 'grew']],
    );
    assert.deepEqual(
      alerts.sinks.map((x) => x.name),
      ['alertmanager#1', 'webhook#1', 'webhook#2'],
    );
    assert.ok(!agent.log.some((l) => JSON.stringify(l).includes(SECRET)), 'nor in the log');
  });

  it('a restart of the agent, even after SIGKILL, neither duplicates nor forgets the alert', async () => {
    // SIGKILL: no clean stop saves anything; what the state file held when the agent died is all the next one has.
    await agent.kill();
    const hookCount = driftBodies(hook!).length;
    agent = await s!.startAgent(s!.configFile, [
      '--alertmanager-url',
      am!.url,
      '--webhook-url',
      hook!.url,
      '--webhook-secret-file',
      path.join(s!.fixture.dir, 'webhook-secret'),
    ]);
    assert.ok(agent.lines((l) => /^alerts still firing from before the restart/.test(l.message)).length === 1, agent.describe());
    // Two resend intervals later, Alertmanager still has exactly one such alert, the same one, from the same start.
    await waitFor(() => driftBodies(hook!).length >= hookCount + 1, 'a re-send after the restart', { describe: describeAll });
    const active = await am!.active(DRIFTED);
    assert.equal(active.length, 1, 'one alert, not two');
    assert.deepEqual([active[0]!.fingerprint, active[0]!.startsAt], [firstAlert.fingerprint, firstAlert.startsAt]);
    assert.ok(
      driftBodies(hook!).every((a) => a.startsAt === firstAlert.startsAt),
      'every send, before and after the restart, is the alert that started then',
    );
    const status = await alertsStatus();
    assert.deepEqual(
      status.firing.map((a) => [a.alertname, a.startsAt]),
      [[DRIFTED, firstAlert.startsAt]],
      'not forgotten',
    );
  });

  it('baseline --accept: the agent takes the lower store as it is, and the alert resolves everywhere', async () => {
    const run = await runCli(['baseline', '--accept', '--json', '--config', s!.configFile], ENV, s!.ns.nsenter);
    const envelope = parseEnvelope(run.stdout, 'baseline');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(envelope.result!['accepted'].paths > 0, true);
    await waitFor(async () => (await am!.active(DRIFTED)).length === 0, 'the drift alert resolved in Alertmanager', { describe: describeAll });
    const resolved = await waitFor(() => driftBodies(hook!).find((a) => a.status === 'resolved'), 'the resolved alert at the webhook', {
      describe: describeAll,
    });
    assert.equal(resolved.startsAt, firstAlert.startsAt);
    assert.ok(resolved.endsAt !== null && resolved.endsAt >= resolved.startsAt);
    assert.deepEqual((await alertsStatus()).firing, []);
    assert.ok(agent.lines((l) => l.message === 'the operator accepted the lower store as the new baseline').length === 1);
  });
});
