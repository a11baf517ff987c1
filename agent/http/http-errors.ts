/** Every error of the HTTP endpoints, in one place. */
import { WardenError } from '../errors/index.ts';

export type HttpErrorCode =
  /** `--listen` or `http.address` is not HOST:PORT. */
  | 'HTTP_BAD_ADDRESS'
  /** Another process listens on the address already. */
  | 'HTTP_ADDRESS_IN_USE'
  /** Listening failed otherwise (no such local address, a privileged port…). */
  | 'HTTP_LISTEN_FAILED';

export class HttpError extends WardenError<HttpErrorCode> {}
