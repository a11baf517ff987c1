/**
 * The alert sinks: Alertmanager's v2 API, a JSON webhook (optionally HMAC-signed) and a command (the webhook body on
 * its stdin). Each sends one batch and resolves, or rejects with AlertSinkError; retries are the queue's business.
 */
import { execa } from 'execa';
import { messageOf } from '../errors/index.ts';
import { AlertSinkError, redactUrl } from './alert-errors.ts';
import type { AlertRecord } from './alert-lifecycle.ts';
import { alertmanagerBody, SIGNATURE_HEADER, signatureOf, webhookBody } from './alert-payloads.ts';

/** What every sink is sent with. */
export interface SendContext {
  readonly now: Date;
  readonly resendMs: number;
  readonly generatorURL: string | undefined;
  readonly signal: AbortSignal;
}

/** A place alerts go. `name` is stable and holds no secret (`alertmanager#1`); `target` is what status shows. */
export interface AlertSink {
  readonly name: string;
  readonly target: string;
  send(alerts: readonly AlertRecord[], context: SendContext): Promise<void>;
}

/** POSTs JSON; rejects with AlertSinkError for an error status or no answer within `timeoutMs`. */
async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const shown = redactUrl(url);
  // fetch refuses a URL with credentials: they travel as Basic authentication instead (as Prometheus sends them).
  const target = new URL(url);
  const auth: Record<string, string> = {};
  if (target.username !== '' || target.password !== '') {
    const pair = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    auth['authorization'] = `Basic ${Buffer.from(pair).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'overlay-warden', ...auth, ...headers },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (cause) {
    const why = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).name;
    throw new AlertSinkError('ALERT_SINK_UNREACHABLE', `alert sink ${shown} did not answer: ${why}`, {
      cause,
      evidence: { url: shown, error: why },
      hint: 'check that the receiver runs and that the agent can reach it',
    });
  }
  // The body is read (and dropped) so the connection can be reused.
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new AlertSinkError('ALERT_SINK_HTTP', `alert sink ${shown} answered HTTP ${response.status}`, {
      evidence: { url: shown, status: response.status, body: text.slice(0, 200) },
      hint:
        response.status >= 500 ? 'the receiver has trouble: deliveries are retried' : 'the receiver refuses what the agent sends: check its URL and version',
    });
  }
}

/** Alertmanager at `baseUrl` (e.g. `http://127.0.0.1:9093`): `POST {baseUrl}/api/v2/alerts`. */
export function alertmanagerSink(name: string, baseUrl: string, timeoutMs: number): AlertSink {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v2/alerts`;
  return {
    name,
    target: redactUrl(url),
    async send(alerts, { now, resendMs, generatorURL, signal }) {
      await postJson(url, JSON.stringify(alertmanagerBody(alerts, now, resendMs, generatorURL)), {}, timeoutMs, signal);
    },
  };
}

/** A JSON webhook; with a secret, the `x-overlay-warden-signature: sha256=HEX` header signs the exact body. */
export function webhookSink(name: string, url: string, secret: string | undefined, timeoutMs: number): AlertSink {
  return {
    name,
    target: redactUrl(url),
    async send(alerts, { now, generatorURL, signal }) {
      const body = JSON.stringify(webhookBody(alerts, now, generatorURL));
      await postJson(url, body, secret === undefined ? {} : { [SIGNATURE_HEADER]: signatureOf(body, secret) }, timeoutMs, signal);
    },
  };
}

/** A command run with the webhook body on stdin; exit 0 is delivered, anything else (or the timeout) fails. */
export function commandSink(name: string, argv: readonly string[], timeoutMs: number): AlertSink {
  const [file, ...args] = argv;
  return {
    name,
    target: file!,
    async send(alerts, { now, generatorURL, signal }) {
      const input = JSON.stringify(webhookBody(alerts, now, generatorURL));
      const result = await execa(file!, args, {
        input,
        timeout: timeoutMs,
        cancelSignal: signal,
        reject: false,
        stdout: 'ignore',
        stderr: 'pipe',
        maxBuffer: 64 * 1024,
      });
      if (result.exitCode === 0 && !result.failed) return;
      const message = result.timedOut
        ? `timed out after ${timeoutMs} ms`
        : result.exitCode === undefined
          ? messageOf(result.cause ?? result.shortMessage)
          : `exit ${result.exitCode}`;
      throw new AlertSinkError('ALERT_SINK_COMMAND', `alert command ${file!} failed: ${message}`, {
        evidence: { command: file!, exitCode: result.exitCode, timedOut: result.timedOut, stderr: String(result.stderr ?? '').slice(-500) },
        hint: 'run the command by hand with an alert on stdin to see why',
      });
    },
  };
}
