export { connectDaemon, DAEMON_CLIENT_DEFAULTS, type DaemonClient, type DaemonClientOptions } from './daemon-client.ts';
export { DaemonError, DAEMON_ERROR_CODES, type DaemonErrorCode } from './daemon-error.ts';
export type { DaemonHello } from './handshake.ts';
export type { DaemonPathInfo } from './daemon-path-info.ts';
export type { DaemonRealisation } from './daemon-realisation.ts';
export type { DaemonLogEvent } from './stderr-stream.ts';
export { FrameWriter } from './frame-encode.ts';
export { FrameReader, NEED_MORE, type FrameLimits } from './frame-reader.ts';
export { WORKER_MAGIC_1, WORKER_MAGIC_2, CLIENT_MINOR, MIN_MINOR, type ProtocolVersion } from './worker-protocol.ts';
