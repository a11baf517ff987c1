/**
 * The agent's HTTP endpoints as a service around it: `/healthz`, `/readyz`, `/status`, `/metrics` open; `POST
 * /remount` behind the bearer token of `http.tokenFile`, answered by the same code as the control socket's remount.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Agent } from '../agent.ts';
import type { AgentServiceStarter } from '../agent-options.ts';
import { statusEnvelope } from '../cli/index.ts';
import { readTokenFile } from '../config/index.ts';
import { ControlError } from '../control/index.ts';
import type { AgentMetrics } from '../metrics/index.ts';
import { startHttpServer, type HttpAnswer, type HttpRoute } from './http-server.ts';
import { formatListenAddress, parseListenAddress } from './listen-address.ts';
import { readinessOf } from './readiness.ts';

/** Event loop delay above which `/healthz` answers 503: the agent is alive but not keeping up. */
export const HEALTHZ_MAX_LAG_MS = 2000;
/** The window over which `/healthz` looks at the event loop's delay. */
const LAG_WINDOW_MS = 10_000;

export interface HttpServiceOptions {
  /** The per-process metrics served on `/metrics`. */
  readonly metrics: AgentMetrics;
  /** `run --listen HOST:PORT`: overrides `http.address` (even `off`). */
  readonly listen?: string | undefined;
}

/** The `http` section of status: where it listens and whether control actions are on. */
export interface HttpStatus {
  readonly address: string;
  readonly control: boolean;
}

/**
 * Starts the HTTP endpoints for `agent`, or nothing when `http.address` is `off` and no `--listen` is given. Rejects
 * (so the agent does not start) with HttpError HTTP_BAD_ADDRESS, HTTP_ADDRESS_IN_USE or HTTP_LISTEN_FAILED, and with
 * the ConfigError of a token file that is missing, empty, or readable or writable by others.
 */
export function httpService(options: HttpServiceOptions): AgentServiceStarter {
  return async (agent, { config, logger }) => {
    const text = options.listen ?? config.http.address;
    if (text === 'off') return { close: async () => undefined };
    const address = parseListenAddress(text, options.listen === undefined ? 'http.address' : '--listen');
    const token = config.http.tokenFile === undefined ? undefined : readTokenFile(config.http.tokenFile);
    // 100 ms resolution: enough to see a lag near HEALTHZ_MAX_LAG_MS, few wake-ups when idle.
    const lag = monitorEventLoopDelay({ resolution: 100 });
    lag.enable();
    const resetLag = setInterval(() => lag.reset(), LAG_WINDOW_MS).unref();
    const socket = config.control.socket;
    const server = await startHttpServer({
      address,
      token,
      routes: routesFor(agent, options.metrics, socket, () => lag.max / 1e6),
      onAnswer: (route, status) => options.metrics.httpRequest(route, status),
    }).catch((error: unknown) => {
      clearInterval(resetLag);
      lag.disable();
      throw error;
    });
    const where = formatListenAddress(server.address);
    agent.extendStatus(() => ({ http: { address: where, control: token !== undefined } satisfies HttpStatus }));
    logger.info(`serving HTTP on ${where}: /healthz /readyz /status /metrics${token === undefined ? '' : ', POST /remount with the bearer token'}`, {
      address: where,
      control: token !== undefined,
    });
    return {
      close: async () => {
        clearInterval(resetLag);
        lag.disable();
        await server.close();
      },
    };
  };
}

/**
 * Every endpoint the agent serves, its method, and whether it is a control action (behind the token): the table
 * routesFor implements, one handler each, and what deployments probe and scrape (deploy/kubernetes/ is tested
 * against it).
 */
export const HTTP_ENDPOINTS = {
  '/healthz': { method: 'GET', control: false },
  '/readyz': { method: 'GET', control: false },
  '/status': { method: 'GET', control: false },
  '/metrics': { method: 'GET', control: false },
  '/remount': { method: 'POST', control: true },
} as const satisfies Record<string, Pick<HttpRoute, 'method' | 'control'>>;

const json = (status: number, value: unknown): HttpAnswer => ({ status, json: value });

function routesFor(agent: Agent, metrics: AgentMetrics, socket: string, lagMs: () => number): Record<keyof typeof HTTP_ENDPOINTS, HttpRoute> {
  return {
    '/healthz': {
      ...HTTP_ENDPOINTS['/healthz'],
      handle: () => {
        const maxLagMs = Math.round(lagMs() * 10) / 10;
        const alive = maxLagMs <= HEALTHZ_MAX_LAG_MS;
        return json(alive ? 200 : 503, { alive, eventLoopMaxLagMs: maxLagMs, limitMs: HEALTHZ_MAX_LAG_MS });
      },
    },
    '/readyz': {
      ...HTTP_ENDPOINTS['/readyz'],
      handle: () => {
        const readiness = readinessOf(agent.status());
        return json(readiness.ready ? 200 : 503, readiness);
      },
    },
    '/status': { ...HTTP_ENDPOINTS['/status'], handle: () => json(200, statusEnvelope(agent.status(), socket)) },
    '/metrics': {
      ...HTTP_ENDPOINTS['/metrics'],
      handle: async () => {
        const { contentType, text } = await metrics.exposition();
        return { status: 200, text, contentType };
      },
    },
    '/remount': {
      ...HTTP_ENDPOINTS['/remount'],
      handle: async (body, signal) => {
        const request = { by: 'http', ...body, id: 'http', action: 'remount' };
        try {
          return json(200, { result: await agent.remountControl()(request, signal) });
        } catch (error) {
          if (error instanceof ControlError && (error.code === 'CONTROL_BAD_REQUEST' || error.code === 'CONTROL_WRONG_STORE')) {
            return json(400, { error: error.toJSON() });
          }
          throw error;
        }
      },
    },
  };
}
