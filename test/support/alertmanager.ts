/**
 * The real Alertmanager (Debian's prometheus-alertmanager) for alerting tests: started on a free loopback port with
 * a temp config and storage dir, no clustering; its v2 API read as Alertmanager's users read it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { freePort } from './free-port.ts';
import os from 'node:os';
import path from 'node:path';
import { requireCommand } from './requirements.ts';
import { waitFor } from './wait-for.ts';

export const ALERTMANAGER = 'prometheus-alertmanager';

/** An alert as `GET /api/v2/alerts` lists it (the fields the tests read). */
export interface GettableAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly fingerprint: string;
  readonly generatorURL?: string;
  readonly status: { readonly state: string };
}

/** Skips (or fails under CI) without Alertmanager. */
export function requireAlertmanager(ctx: Mocha.Context): void {
  requireCommand(ctx, ALERTMANAGER);
}

export class Alertmanager {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #output = '';

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.#output = (this.#output + d).slice(-20_000)));
  }

  /** Starts one and resolves once `/-/ready` answers. */
  static async start(): Promise<Alertmanager> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ow-alertmanager-'));
    const config = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(config, 'route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      ALERTMANAGER,
      [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const am = new Alertmanager(url, child, dir);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`alertmanager exited ${child.exitCode}:\n${am.#output}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true;
      },
      'alertmanager to be ready',
      { intervalMs: 100, describe: () => am.#output },
    );
    return am;
  }

  /** `GET /api/v2/alerts` (active, silenced and inhibited; Alertmanager leaves resolved ones out). */
  async alerts(): Promise<GettableAlert[]> {
    const response = await fetch(`${this.url}/api/v2/alerts`);
    if (!response.ok) throw new Error(`GET /api/v2/alerts: HTTP ${response.status}`);
    return (await response.json()) as GettableAlert[];
  }

  /** The alerts named `alertname` still active (not past their endsAt). */
  async active(alertname: string): Promise<GettableAlert[]> {
    const now = Date.now();
    return (await this.alerts()).filter((a) => a.labels['alertname'] === alertname && Date.parse(a.endsAt) > now);
  }

  describe(): string {
    return `--- alertmanager ---\n${this.#output.slice(-3000)}`;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((resolve) => this.#child.once('exit', resolve));
      this.#child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}
