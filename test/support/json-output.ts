/** Reads what a command printed with `--json`: parses the envelope and fails the test unless it validates against the published schema. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JSON_OUTPUT_SCHEMA, type JsonEnvelope } from '../../agent/cli/json-envelope.ts';
import type { Finding } from '../../agent/findings/index.ts';
import { validate } from './json-schema.ts';

/** agent/cli/json-output.schema.json, parsed. */
export const OUTPUT_SCHEMA = JSON.parse(fs.readFileSync(fileURLToPath(new URL(`../../${JSON_OUTPUT_SCHEMA}`, import.meta.url)), 'utf8')) as Record<
  string,
  unknown
>;

/** An envelope whose result the test reads freely (by the keys the schema documents). */
export type Envelope = JsonEnvelope<Record<string, any>>;

/** The schema's errors for `value` (empty when valid). */
export function schemaErrors(value: unknown): string[] {
  return validate(value, OUTPUT_SCHEMA);
}

/** Parses stdout as one envelope and asserts it validates against the schema; `command` (if given) must be the one it names. */
export function parseEnvelope(stdout: string, command?: string): Envelope {
  let envelope: unknown;
  try {
    envelope = JSON.parse(stdout);
  } catch (error) {
    assert.fail(`--json printed no JSON document (${(error as Error).message}):\n${stdout.slice(0, 2000)}`);
  }
  assert.deepEqual(schemaErrors(envelope), [], `the envelope does not validate against the schema:\n${stdout.slice(0, 4000)}`);
  const valid = envelope as Envelope;
  if (command !== undefined) assert.equal(valid.command, command);
  return valid;
}

/** A result's keys with the envelope's findings beside them. */
export interface Report {
  readonly findings: Finding[];
  readonly [key: string]: any;
}

/**
 * The envelope's findings and its result's keys side by side, from a validated envelope of a command that ran to the
 * end; `T` names the keys the test reads.
 */
export function reportOf<T extends { readonly findings: readonly unknown[] } = Report>(stdout: string, command?: string): T {
  const envelope = parseEnvelope(stdout, command);
  assert.notEqual(envelope.result, null, `the command stopped with an error: ${JSON.stringify(envelope.error)}`);
  return { ...envelope.result, findings: [...envelope.findings] } as unknown as T;
}
