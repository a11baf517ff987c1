/** What other parts reuse of the CLI: the one JSON envelope and the `status --json` document (not the commands). */
export { resultEnvelope, errorEnvelope, printEnvelope, JSON_OUTPUT_SCHEMA, type JsonEnvelope, type JsonError } from './json-envelope.ts';
export { statusEnvelope } from './status-envelope.ts';
