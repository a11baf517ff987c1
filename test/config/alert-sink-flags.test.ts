/** The alerts section and `run`'s sink flags: merged over the file, validated with the flag named, secrets checked. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, readSecretFile, WEBHOOK_SECRET, type ConfigFlags } from '../../agent/config/index.ts';
import { requireRoot } from '../support/requirements.ts';

const STORE = 'local-overlay?lower-store=%2Fmnt%2Fcacache&upper-layer=/mnt/nix/store&check-mount=false';

describe('config: alerts section and the alert sink flags of run', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ow-alert-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (flags: ConfigFlags) => loadConfig({ flags: { store: STORE, ...flags }, env: {} });

  it('defaults: no sink, re-sent every 60 s, drift held until accepted', () => {
    const { alerts } = load({});
    assert.deepEqual([alerts.alertmanager.urls, alerts.webhooks, alerts.commands], [[], [], []]);
    assert.deepEqual([alerts.resendSeconds, alerts.driftHoldSeconds], [60, 0]);
  });

  it('--alertmanager-url (repeated) replaces the file’s URLs; --webhook-url adds a webhook', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'alerts:\n  alertmanager:\n    urls: [http://old:9093]\n  webhooks: [{url: "http://hook-a/"}]\n', { mode: 0o600 });
    const { alerts } = load({ config: file, alertmanagerUrls: ['http://am-1:9093', 'http://am-2:9093'], webhookUrl: 'https://hook-b/x' });
    assert.deepEqual(alerts.alertmanager.urls, ['http://am-1:9093', 'http://am-2:9093']);
    assert.deepEqual(
      alerts.webhooks.map((w) => w.url),
      ['http://hook-a/', 'https://hook-b/x'],
    );
  });

  it('a URL that is not http(s) is refused, naming the flag it came from', () => {
    assert.throws(
      () => load({ alertmanagerUrls: ['ftp://am:9093'] }),
      (e: unknown) =>
        e instanceof ConfigError && /alerts\.alertmanager\.urls\.0 \(--alertmanager-url\): expected an http:\/\/ or https:\/\/ URL/.test(e.message),
    );
  });

  it('the webhook secret file must be root-only; its secret is read trimmed', function () {
    requireRoot(this);
    const secret = join(dir, 'secret');
    writeFileSync(secret, 's3cret\n');
    chmodSync(secret, 0o644);
    assert.throws(
      () => load({ webhookUrl: 'http://hook/', webhookSecretFile: secret }),
      (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INSECURE',
    );
    chmodSync(secret, 0o600);
    assert.equal(load({ webhookUrl: 'http://hook/', webhookSecretFile: secret }).alerts.webhooks[0]!.secretFile, secret);
    assert.equal(readSecretFile(secret, WEBHOOK_SECRET), 's3cret');
  });
});
