/** The control surface: a root-only unix socket with a line-delimited JSON protocol, its client, and the remount action. */
export {
  CONTROL_MAX_REQUEST_BYTES,
  CONTROL_MAX_RESPONSE_BYTES,
  parseControlRequest,
  parseControlResponse,
  encodeControlLine,
  errorResponse,
  errorResponseFor,
  type ControlRequest,
  type ControlRequestId,
  type ControlResponse,
  type ControlErrorBody,
} from './control-protocol.ts';
export { ControlError, type ControlErrorCode } from './control-errors.ts';
export { startControlServer, type ControlServer, type ControlServerOptions, type ControlHandler } from './control-server.ts';
export { requestControl, type RequestControlOptions } from './control-client.ts';
export { assertSocketDirSafe, clearStaleSocket, socketAnswers, SOCKET_PROBE_TIMEOUT_MS } from './control-socket-path.ts';
export { remountHandler, toRemountRequest, CONTROL_REMOUNT_SOURCES } from './remount-handler.ts';
