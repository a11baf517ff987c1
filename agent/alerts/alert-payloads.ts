/** What each sink sends, pure: Alertmanager's v2 alert list, the webhook's JSON body, and its HMAC-SHA256 signature. */
import { createHmac } from 'node:crypto';
import { isFiring, type AlertRecord } from './alert-lifecycle.ts';

/** One alert of Alertmanager's `POST /api/v2/alerts` body (postableAlert). */
export interface AlertmanagerAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
}

/**
 * The Alertmanager body: a firing alert ends `4 × resendMs` from `now` (as Prometheus does, so an agent gone quiet
 * lets it resolve by itself, while re-sends keep it firing), a resolved one at its `endsAt`. Pure.
 */
export function alertmanagerBody(alerts: readonly AlertRecord[], now: Date, resendMs: number, generatorURL: string | undefined): AlertmanagerAlert[] {
  const firingEnd = new Date(now.getTime() + 4 * resendMs).toISOString();
  return alerts.map((alert) => ({
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    endsAt: alert.endsAt ?? firingEnd,
    ...(generatorURL === undefined ? {} : { generatorURL }),
  }));
}

/** One alert of the webhook body. */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly fingerprint: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string | null;
  readonly generatorURL: string | null;
}

/** The webhook (and command) body: `{version: 1, sender: 'overlay-warden', sentAt, alerts}`. */
export interface WebhookBody {
  readonly version: 1;
  readonly sender: 'overlay-warden';
  readonly sentAt: string;
  readonly alerts: readonly WebhookAlert[];
}

/** The webhook body for `alerts` at `now`. Pure. */
export function webhookBody(alerts: readonly AlertRecord[], now: Date, generatorURL: string | undefined): WebhookBody {
  return {
    version: 1,
    sender: 'overlay-warden',
    sentAt: now.toISOString(),
    alerts: alerts.map((alert) => ({
      status: isFiring(alert) ? 'firing' : 'resolved',
      fingerprint: alert.fingerprint,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: alert.endsAt ?? null,
      generatorURL: generatorURL ?? null,
    })),
  };
}

/** The header the webhook signature travels in. */
export const SIGNATURE_HEADER = 'x-overlay-warden-signature';

/** `sha256=HEX`: HMAC-SHA256 of the exact body bytes with `secret` (as GitHub's webhooks sign). Pure. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
