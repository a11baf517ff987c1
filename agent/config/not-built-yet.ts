/** Settings accepted for parts not built yet, and what each does today (nothing), for the agent's start-up log (pure). */
import type { ConfigSettings } from './config-schema.ts';

/** A setting in effect that nothing acts on yet. */
export interface UnbuiltSetting {
  readonly key: string;
  readonly value: string;
  readonly message: string;
}

/**
 * The settings of `settings` that are in effect but not acted on, because the part they configure is not built yet:
 * `http.address` unless `off` (the HTTP endpoints: nothing listens), and `http.tokenFile` when set (never read). They
 * are accepted, not refused, so that a configuration written for the HTTP endpoints stays valid when they come.
 */
export function unbuiltSettings(settings: Pick<ConfigSettings, 'http'>): UnbuiltSetting[] {
  const { address, tokenFile } = settings.http;
  const unbuilt: UnbuiltSetting[] = [];
  if (address !== 'off') {
    unbuilt.push({
      key: 'http.address',
      value: address,
      message: `http.address ${address} is not served: the HTTP endpoints (health, metrics, status) are not built yet, so nothing listens there; status is served on the control socket (overlay-warden status)`,
    });
  }
  if (tokenFile !== undefined) {
    unbuilt.push({ key: 'http.tokenFile', value: tokenFile, message: `http.tokenFile ${tokenFile} is not read: there are no HTTP control actions yet` });
  }
  return unbuilt;
}
