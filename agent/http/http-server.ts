/**
 * The node:http server of the agent's endpoints: a fixed table of routes, control routes behind the bearer token,
 * small bodies only, every answer JSON or Prometheus text. Knows nothing of the agent: routes come as parameters.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageOf, WardenError } from '../errors/index.ts';
import { checkBearer } from './bearer-token.ts';
import { HttpError } from './http-errors.ts';
import { formatListenAddress, type ListenAddress } from './listen-address.ts';

/** An answer: a status code and a JSON value, or Prometheus text. */
export type HttpAnswer = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType: string };

export interface HttpRoute {
  readonly method: 'GET' | 'POST';
  /** A control action: refused without the bearer token. */
  readonly control: boolean;
  /** Answers the request; `body` is the parsed JSON body of a POST (`{}` when empty). A throw becomes a 500 (or the WardenError's answer). */
  handle(body: Record<string, unknown>, signal: AbortSignal): Promise<HttpAnswer> | HttpAnswer;
}

export interface HttpServerOptions {
  readonly address: ListenAddress;
  /** Routes by path (`/healthz`). */
  readonly routes: Readonly<Record<string, HttpRoute>>;
  /** The bearer token of control routes; undefined when no token file is configured (control routes then answer 403). */
  readonly token: string | undefined;
  /** Called once per answer, with the route (`other` for an unknown path) and the status code (metrics). */
  readonly onAnswer?: (route: string, status: number) => void;
}

export interface HttpServer {
  /** The address listened on (the port the kernel chose when asked for 0). */
  readonly address: ListenAddress;
  /** Stops listening and ends open connections; idempotent. */
  close(): Promise<void>;
}

/** The largest request body read (a control action's few fields). */
export const HTTP_MAX_BODY_BYTES = 16 * 1024;

const errorJson = (code: string, message: string, hint?: string): unknown => ({ error: { code, message, ...(hint === undefined ? {} : { hint }) } });

/**
 * Listens on `options.address`. Throws HttpError HTTP_ADDRESS_IN_USE when another process has it, HTTP_LISTEN_FAILED
 * for any other listen error (the hint names the setting and the flag that change it).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const abort = new AbortController();
  const server = createServer((request, response) => {
    void answer(options, request, response, abort.signal);
  });
  // A slow or idle client never holds the agent: short timeouts, few headers.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  await listen(server, options.address);
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: { host: options.address.host, port },
    close() {
      closing ??= new Promise<void>((resolve) => {
        abort.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function listen(server: Server, address: ListenAddress): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    const where = formatListenAddress(address);
    const errno = (cause as NodeJS.ErrnoException).code;
    const evidence = { address: where, errno: errno ?? 'unknown' };
    if (errno === 'EADDRINUSE') {
      throw new HttpError('HTTP_ADDRESS_IN_USE', `cannot serve HTTP on ${where}: another process listens there`, {
        cause,
        evidence,
        hint: `stop that process (ss -ltnp 'sport = :${address.port}' names it), or set http.address (or run --listen HOST:PORT) to a free address, or http.address: off`,
      });
    }
    throw new HttpError('HTTP_LISTEN_FAILED', `cannot serve HTTP on ${where}: ${messageOf(cause)}`, {
      cause,
      evidence,
      hint: 'set http.address (or run --listen HOST:PORT) to an address of this host, or http.address: off',
    });
  }
}

async function answer(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse, closing: AbortSignal): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://agent').pathname;
  const route = Object.hasOwn(options.routes, path) ? options.routes[path] : undefined;
  let result: HttpAnswer;
  try {
    result = await decide(options, route, path, request, closing);
  } catch (error) {
    result =
      error instanceof WardenError
        ? { status: 500, json: { error: error.toJSON() } }
        : { status: 500, json: errorJson('HTTP_HANDLER_FAILED', `the request failed: ${messageOf(error)}`) };
  }
  options.onAnswer?.(route === undefined ? 'other' : path, result.status);
  const body = 'json' in result ? `${JSON.stringify(result.json, null, 2)}\n` : result.text;
  const type = 'json' in result ? 'application/json; charset=utf-8' : result.contentType;
  response.writeHead(result.status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

async function decide(
  options: HttpServerOptions,
  route: HttpRoute | undefined,
  path: string,
  request: IncomingMessage,
  closing: AbortSignal,
): Promise<HttpAnswer> {
  if (route === undefined)
    return { status: 404, json: errorJson('HTTP_NOT_FOUND', `no such endpoint: ${path}`, `try ${Object.keys(options.routes).join(', ')}`) };
  if (request.method !== route.method && !(route.method === 'GET' && request.method === 'HEAD')) {
    return { status: 405, json: errorJson('HTTP_METHOD_NOT_ALLOWED', `${path} takes ${route.method}, not ${request.method ?? '?'}`) };
  }
  if (route.control) {
    if (options.token === undefined) {
      return {
        status: 403,
        json: errorJson(
          'HTTP_CONTROL_OFF',
          'control actions over HTTP are off: no http.tokenFile is configured',
          'set http.tokenFile, or use the control socket (overlay-warden remount)',
        ),
      };
    }
    const verdict = checkBearer(request.headers.authorization, options.token);
    if (verdict === 'missing') {
      return { status: 401, json: errorJson('HTTP_UNAUTHENTICATED', `${path} needs Authorization: Bearer <the token of http.tokenFile>`) };
    }
    if (verdict === 'wrong') return { status: 403, json: errorJson('HTTP_FORBIDDEN', 'the bearer token is not the one of http.tokenFile') };
  }
  const body = route.method === 'POST' ? await readJsonBody(request) : {};
  if (body === undefined)
    return { status: 400, json: errorJson('HTTP_BAD_REQUEST', `the body must be a JSON object of at most ${HTTP_MAX_BODY_BYTES} bytes (or empty)`) };
  return route.handle(body, closing);
}

/** The body as a JSON object (`{}` when empty), or undefined when too large or not one. */
async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > HTTP_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
