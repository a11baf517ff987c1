/** The alert state in the agent's state dir (`alerts.json`), written atomically so a crash leaves the old or the new state. */
import { join } from 'node:path';
import { readJsonStateFile, writeFileAtomic } from '../state/index.ts';
import { ALERT_NAMES } from './alert-kinds.ts';
import { EMPTY_ALERT_STATE, type AlertState } from './alert-lifecycle.ts';

/** The file's format version; another one is ignored (started afresh) rather than misread. */
const FORMAT = 1;

export const alertStateFileOf = (stateDir: string): string => join(stateDir, 'alerts.json');

const isRecordOfStrings = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

function isAlertRecord(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return (
    typeof a['fingerprint'] === 'string' &&
    (ALERT_NAMES as readonly unknown[]).includes(a['name']) &&
    isRecordOfStrings(a['labels']) &&
    isRecordOfStrings(a['annotations']) &&
    typeof a['scope'] === 'string' &&
    typeof a['startsAt'] === 'string' &&
    typeof a['lastSeenAt'] === 'string' &&
    (a['endsAt'] === undefined || typeof a['endsAt'] === 'string') &&
    Number.isSafeInteger(a['version']) &&
    typeof a['delivered'] === 'object' &&
    a['delivered'] !== null
  );
}

function isStateFile(v: unknown): v is { format: number; alerts: AlertState['alerts'] } {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  return f['format'] === FORMAT && typeof f['alerts'] === 'object' && f['alerts'] !== null && Object.values(f['alerts']).every(isAlertRecord);
}

/**
 * The persisted state, or the empty state when there is none. Throws StateFileError STATE_READ_FAILED or
 * STATE_CORRUPT (not JSON, not this shape or format: the caller logs it and starts afresh; the file stays as evidence).
 */
export function loadAlertState(file: string): AlertState {
  const saved = readJsonStateFile(file, isStateFile);
  return saved === undefined ? EMPTY_ALERT_STATE : { alerts: saved.alerts };
}

/** Saves the state atomically (mode 0600). Throws StateFileError STATE_WRITE_FAILED or STATE_DIR_UNTRUSTED. */
export function saveAlertState(file: string, state: AlertState): void {
  writeFileAtomic(file, `${JSON.stringify({ format: FORMAT, alerts: state.alerts })}\n`);
}
