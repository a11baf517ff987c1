/** The control socket's protocol, pure: one JSON object per line each way, `{id, action, …}` → `{id, ok, result | error}`. */
import { WardenError, messageOf, type Evidence } from '../errors/index.ts';
import type { ControlErrorCode } from './control-errors.ts';

/** The largest request line the server reads (bytes, newline excluded). */
export const CONTROL_MAX_REQUEST_BYTES = 64 * 1024;
/** The largest response line the client reads. */
export const CONTROL_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export type ControlRequestId = string | number;

/** A request: an id the response echoes, an action name, and the action's own fields. */
export interface ControlRequest {
  readonly id: ControlRequestId;
  readonly action: string;
  readonly [field: string]: unknown;
}

/** An error as the wire carries it (a WardenError's `toJSON`). */
export interface ControlErrorBody {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly evidence?: Evidence;
}

export type ControlResponse =
  | { readonly id: ControlRequestId | null; readonly ok: true; readonly result: unknown }
  | { readonly id: ControlRequestId | null; readonly ok: false; readonly error: ControlErrorBody };

const ACTION = /^[a-z][a-z0-9-]{0,63}$/;

const isId = (v: unknown): v is ControlRequestId => (typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isSafeInteger(v));

/** Parses one request line; on a bad line, the error response to send (with the id when one could be read). Pure. */
export function parseControlRequest(line: string): { readonly request: ControlRequest } | { readonly response: ControlResponse } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return {
      response: errorResponse(null, 'CONTROL_BAD_REQUEST', 'the request is not valid JSON', 'send one JSON object per line: {"id":1,"action":"status"}'),
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { response: errorResponse(null, 'CONTROL_BAD_REQUEST', 'the request must be a JSON object', 'send {"id":1,"action":"status"}') };
  }
  const record = value as Record<string, unknown>;
  const id = isId(record['id']) ? record['id'] : null;
  if (id === null) return { response: errorResponse(null, 'CONTROL_BAD_REQUEST', 'the request needs an "id" (a string or an integer)') };
  if (typeof record['action'] !== 'string' || !ACTION.test(record['action'])) {
    return { response: errorResponse(id, 'CONTROL_BAD_REQUEST', 'the request needs an "action" (lower-case letters, digits and dashes)') };
  }
  return { request: record as ControlRequest };
}

/** An error response. Pure. */
export function errorResponse(
  id: ControlRequestId | null,
  code: ControlErrorCode | string,
  message: string,
  hint?: string,
  evidence?: Evidence,
): ControlResponse {
  return { id, ok: false, error: { code, message, ...(hint === undefined ? {} : { hint }), ...(evidence === undefined ? {} : { evidence }) } };
}

/** The error response for anything a handler threw: a WardenError keeps its code, anything else is CONTROL_HANDLER_FAILED. Pure. */
export function errorResponseFor(id: ControlRequestId | null, error: unknown): ControlResponse {
  if (error instanceof WardenError) return { id, ok: false, error: error.toJSON() };
  return errorResponse(id, 'CONTROL_HANDLER_FAILED', `the action failed: ${messageOf(error)}`);
}

/** One response line (JSON and a newline). A result that cannot be serialised becomes an error response. Pure. */
export function encodeControlLine(message: ControlResponse | ControlRequest): string {
  try {
    return `${JSON.stringify(message)}\n`;
  } catch (cause) {
    const id = 'id' in message ? message.id : null;
    return `${JSON.stringify(errorResponse(id, 'CONTROL_HANDLER_FAILED', `the result could not be serialised: ${messageOf(cause)}`))}\n`;
  }
}

/** Checks the shape of a response line; undefined when it is not one. Pure. */
export function parseControlResponse(line: string): ControlResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (!(r['id'] === null || isId(r['id']))) return undefined;
  if (r['ok'] === true && 'result' in r) return r as ControlResponse;
  const error = r['error'] as Record<string, unknown> | undefined;
  if (r['ok'] === false && typeof error === 'object' && error !== null && typeof error['code'] === 'string' && typeof error['message'] === 'string')
    return r as ControlResponse;
  return undefined;
}
