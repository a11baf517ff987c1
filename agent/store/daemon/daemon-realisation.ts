/**
 * QueryRealisation's answer (CA derivations), in the two shapes of protocols 1.27–1.37: a set of output paths
 * (< 1.31) or a set of realisations as JSON text (1.31+). From 1.38 the answer depends on a protocol feature
 * (realisations with paths) this client does not negotiate, so it does not ask.
 */
import { messageOf } from '../../errors/index.ts';
import { DaemonError } from './daemon-error.ts';
import { checkStorePath } from './daemon-path-info.ts';
import type { FrameReader } from './frame-reader.ts';

/** One realisation of a derivation output, as the daemon holds it. */
export interface DaemonRealisation {
  /** The derivation output, `sha256:<hash>!<output name>`, as asked. */
  readonly id: string;
  /** The full store path. */
  readonly outPath: string;
  /** Sorted; empty below protocol 1.31, which sends only the path. */
  readonly signatures: readonly string[];
}

/** First and last minor whose QueryRealisation answer this client reads. */
export const REALISATION_MINORS = { first: 27, json: 31, last: 37 } as const;

/** `<algo>:<digest>!<output>`, as Nix prints a DrvOutput. */
const DRV_OUTPUT = /^[a-z0-9]+:[0-9a-zA-Z+/=]+![^\s!]+$/;

export function isDrvOutputId(id: string): boolean {
  return DRV_OUTPUT.test(id);
}

/** Reads the answer for `id` at protocol 1.`minor` (REALISATION_MINORS.first–last), synchronously (NEED_MORE until it is all there). */
export function readRealisations(reader: FrameReader, minor: number, storeDir: string, id: string): DaemonRealisation[] {
  const items = reader.strings(minor < REALISATION_MINORS.json ? 'output paths' : 'realisations');
  if (minor < REALISATION_MINORS.json) {
    return items.map((outPath) => ({ id, outPath: checkStorePath(storeDir, outPath, 'outPath'), signatures: [] }));
  }
  return items.map((text) => decodeRealisationJson(text, storeDir, id));
}

/**
 * One realisation as the daemon's JSON: `{"id", "outPath" (a base name), "signatures", "dependentRealisations"}`.
 * @throws DaemonError DAEMON_BAD_ANSWER.
 */
export function decodeRealisationJson(text: string, storeDir: string, id: string): DaemonRealisation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw bad(text, `not JSON (${messageOf(cause)})`, cause);
  }
  const record = value as { id?: unknown; outPath?: unknown; signatures?: unknown } | null;
  if (typeof record !== 'object' || record === null) throw bad(text, 'not an object');
  if (record.id !== id) throw bad(text, `id ${JSON.stringify(record.id)}, not the one asked for`);
  if (typeof record.outPath !== 'string') throw bad(text, 'no outPath');
  const signatures = record.signatures ?? [];
  if (!Array.isArray(signatures) || !signatures.every((sig) => typeof sig === 'string')) throw bad(text, 'signatures that are not strings');
  const outPath = record.outPath.startsWith('/') ? record.outPath : `${storeDir}/${record.outPath}`;
  return { id, outPath: checkStorePath(storeDir, outPath, 'outPath'), signatures: [...(signatures as string[])].sort() };
}

function bad(text: string, what: string, cause?: unknown): DaemonError {
  return new DaemonError('DAEMON_BAD_ANSWER', `nix-daemon sent a realisation that is ${what}`, {
    evidence: { field: 'realisation', value: text.slice(0, 200) },
    cause,
  });
}
