/**
 * The sinks against real receivers: the webhook's body and signature over HTTP, the command's stdin and timeout, and
 * delivery to a sink that refuses: retried with backoff, counted, delivered once it is back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  applyUpdate,
  commandSink,
  dueFor,
  EMPTY_ALERT_STATE,
  markDelivered,
  signatureOf,
  SinkDelivery,
  webhookSink,
  type AlertState,
} from '../../agent/alerts/index.ts';
import { isWardenError } from '../../agent/errors/index.ts';
import { freePort } from '../support/free-port.ts';
import { waitFor } from '../support/wait-for.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const now = new Date('2026-01-01T00:00:00Z');
const { state: firing } = applyUpdate(
  EMPTY_ALERT_STATE,
  { scope: 'findings:check', mode: 'replace', conditions: [{ name: 'OverlayWardenMountInvalid', labels: {}, summary: 'invalid', evidence: 'e' }] },
  now,
  { staticLabels: {}, runbookBase: '' },
);
const alerts = Object.values(firing.alerts);
const context = { now, resendMs: 60_000, generatorURL: 'http://127.0.0.1:9873/status', signal: new AbortController().signal };

describe('alerts: sinks', function () {
  let receiver: WebhookReceiver;
  let dir: string;
  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-alert-sinks-'));
  });
  afterEach(async () => {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('webhook: the JSON body, signed; without a secret, no signature header', async () => {
    await webhookSink('webhook#1', receiver.url, 'k', 5000).send(alerts, context);
    await webhookSink('webhook#2', receiver.url, undefined, 5000).send(alerts, context);
    const [signed, plain] = receiver.received;
    assert.equal(signed!.headers['x-overlay-warden-signature'], signatureOf(signed!.body, 'k'));
    assert.equal(plain!.headers['x-overlay-warden-signature'], undefined);
    const body = JSON.parse(signed!.body);
    assert.deepEqual(body.alerts[0].status, 'firing');
    assert.equal(body.alerts[0].generatorURL, 'http://127.0.0.1:9873/status');
  });

  it('webhook: an error status and a closed port are typed errors naming the URL without its credentials', async () => {
    receiver.failing = true;
    await assert.rejects(webhookSink('w', receiver.url.replace('http://', 'http://user:pw@'), undefined, 5000).send(alerts, context), (e: unknown) => {
      assert.ok(isWardenError(e, 'ALERT_SINK_HTTP'));
      assert.ok(!e.message.includes('pw'), e.message);
      return true;
    });
    assert.equal(receiver.refused, 1);
    receiver.failing = false;
    await webhookSink('w', receiver.url.replace('http://', 'http://user:pw@'), undefined, 5000).send(alerts, context);
    assert.equal(receiver.received[0]!.headers['authorization'], `Basic ${Buffer.from('user:pw').toString('base64')}`, 'credentials as Basic auth');
    await assert.rejects(webhookSink('w', receiver.url, undefined, 5000).send(alerts, { ...context, signal: AbortSignal.abort() }), (e: unknown) => {
      assert.ok(isWardenError(e, 'ALERT_SINK_UNREACHABLE'));
      return true;
    });
    const port = await freePort();
    await assert.rejects(webhookSink('w', `http://127.0.0.1:${port}/`, undefined, 5000).send(alerts, context), (e: unknown) =>
      isWardenError(e, 'ALERT_SINK_UNREACHABLE'),
    );
  });

  it('command: the alerts as JSON on stdin; a failing or hanging command is ALERT_SINK_COMMAND', async () => {
    const out = path.join(dir, 'stdin.json');
    await commandSink('command#1', ['sh', '-c', `cat > ${out}`], 5000).send(alerts, context);
    assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).alerts[0].labels.alertname, 'OverlayWardenMountInvalid');
    await assert.rejects(
      commandSink('c', ['sh', '-c', 'exit 3'], 5000).send(alerts, context),
      (e: unknown) => isWardenError(e, 'ALERT_SINK_COMMAND') && e.evidence['exitCode'] === 3,
    );
    await assert.rejects(
      commandSink('c', ['sleep', '30'], 200).send(alerts, context),
      (e: unknown) => isWardenError(e, 'ALERT_SINK_COMMAND') && e.evidence['timedOut'] === true,
    );
  });

  it('delivery to a sink that refuses: retried with backoff, failures counted, delivered once it is back', async () => {
    receiver.failing = true;
    let state: AlertState = firing;
    const failures: number[] = [];
    const delivery = new SinkDelivery({
      sink: webhookSink('webhook#1', receiver.url, undefined, 5000),
      maxBatch: 10,
      backoffMs: 20,
      maxBackoffMs: 100,
      due: (at) => dueFor(state, 'webhook#1', at, 60_000),
      context: (at) => ({ now: at, resendMs: 60_000, generatorURL: undefined }),
      delivered: (batch, at) => (state = markDelivered(state, 'webhook#1', batch, at)),
      failed: (_error, consecutive) => failures.push(consecutive),
    });
    try {
      delivery.kick();
      await waitFor(() => failures.length >= 3, 'three failed attempts');
      assert.deepEqual(failures.slice(0, 3), [1, 2, 3]);
      assert.equal(delivery.status().state, 'failing');
      receiver.failing = false;
      await waitFor(() => receiver.received.length === 1, 'the delivery once back');
      await waitFor(() => delivery.status().state === 'ok', 'the sink ok');
      assert.equal(dueFor(state, 'webhook#1', new Date(), 60_000).length, 0, 'nothing left due');
      assert.equal(delivery.status().deliveries, 1);
    } finally {
      await delivery.close();
    }
  });
});
