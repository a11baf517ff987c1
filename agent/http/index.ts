/** The agent's HTTP endpoints: health, readiness, status, metrics, and control actions behind a bearer token. */
export { httpService, HEALTHZ_MAX_LAG_MS, HTTP_ENDPOINTS, type HttpServiceOptions, type HttpStatus } from './http-service.ts';
export { startHttpServer, HTTP_MAX_BODY_BYTES, type HttpServer, type HttpServerOptions, type HttpRoute, type HttpAnswer } from './http-server.ts';
export { parseListenAddress, formatListenAddress, type ListenAddress } from './listen-address.ts';
export { checkBearer, type BearerVerdict } from './bearer-token.ts';
export { readinessOf, type Readiness } from './readiness.ts';
export { HttpError, type HttpErrorCode } from './http-errors.ts';
