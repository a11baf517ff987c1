/** `HOST:PORT` as `http.address` and `--listen` take it, parsed (pure). */
import { HttpError } from './http-errors.ts';

export interface ListenAddress {
  /** The host to bind, brackets of an IPv6 literal removed (`::1`). */
  readonly host: string;
  /** 0 asks the kernel for a free port (tests). */
  readonly port: number;
}

const ADDRESS = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/**
 * Parses `HOST:PORT` (`127.0.0.1:9873`, `[::1]:9873`, `localhost:0`). Throws HttpError HTTP_BAD_ADDRESS naming
 * `what` (the setting or flag) and the value for anything else, a port above 65535 included.
 */
export function parseListenAddress(text: string, what = 'http.address'): ListenAddress {
  const match = ADDRESS.exec(text);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new HttpError('HTTP_BAD_ADDRESS', `${what} takes HOST:PORT (a port up to 65535), got ${JSON.stringify(text)}`, {
      evidence: { [what]: text },
      hint: 'e.g. 127.0.0.1:9873, [::1]:9873, or off (http.address only) to serve nothing',
    });
  }
  return { host: match[1] ?? match[2]!, port };
}

/** `host:port` for messages and status, brackets around an IPv6 host (pure). */
export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
