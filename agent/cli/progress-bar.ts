/** A one-line progress bar on stderr for long commands: bar, counts, throughput, ETA; silent unless stderr is a terminal. */
import type { CliIo } from './command.ts';
import { formatBytes } from '../config/index.ts';

/** What a progress line shows; every field but `label` and `done` is optional. */
export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total?: number | undefined;
  /** What `done` counts (`objects`, `rows`). */
  readonly unit?: string;
  readonly bytes?: number;
  readonly totalBytes?: number | undefined;
  readonly bytesPerSecond?: number;
  readonly itemsPerSecond?: number;
  readonly etaMs?: number | undefined;
}

const BAR_WIDTH = 20;

/** `1:05` or `1:02:03` (pure). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** The text of one progress line, at most `columns` wide: the bar goes first when space is short (pure). */
export function formatProgressLine(state: ProgressState, columns = 100): string {
  const fraction =
    state.totalBytes !== undefined && state.totalBytes > 0 && state.bytes !== undefined
      ? state.bytes / state.totalBytes
      : state.total !== undefined && state.total > 0
        ? state.done / state.total
        : undefined;
  const parts: string[] = [];
  parts.push(`${state.done}${state.total === undefined ? '' : `/${state.total}`}${state.unit === undefined ? '' : ` ${state.unit}`}`);
  if (state.bytesPerSecond !== undefined && state.bytesPerSecond > 0) parts.push(`${formatBytes(state.bytesPerSecond)}/s`);
  else if (state.itemsPerSecond !== undefined && state.itemsPerSecond > 0) parts.push(`${Math.round(state.itemsPerSecond)}/s`);
  if (state.etaMs !== undefined) parts.push(`ETA ${formatDuration(state.etaMs)}`);
  const facts = parts.join('  ');
  if (fraction === undefined) return fit(`${state.label}  ${facts}`, columns);
  const clamped = Math.min(Math.max(fraction, 0), 1);
  const percent = `${Math.floor(clamped * 100)
    .toString()
    .padStart(3)}%`;
  const filled = Math.round(clamped * BAR_WIDTH);
  const withBar = `${state.label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}  ${facts}`;
  return withBar.length <= columns ? withBar : fit(`${state.label} ${percent}  ${facts}`, columns);
}

function fit(line: string, columns: number): string {
  return line.length > columns ? line.slice(0, columns) : line;
}

/** Draws progress on stderr when it is a terminal (redrawn in place, at most every `intervalMs`); otherwise does nothing. */
export class ProgressBar {
  readonly #io: CliIo;
  readonly #enabled: boolean;
  readonly #intervalMs: number;
  #last = 0;
  #drawn = false;

  constructor(io: CliIo, options: { readonly enabled?: boolean; readonly intervalMs?: number } = {}) {
    this.#io = io;
    this.#enabled = options.enabled ?? (io.stderr.isTTY === true && io.env['TERM'] !== 'dumb');
    this.#intervalMs = options.intervalMs ?? 100;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Redraws the line (throttled; `force` draws now). */
  update(state: ProgressState, force = false): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < this.#intervalMs) return;
    this.#last = now;
    const columns = (this.#io.stderr as { columns?: number }).columns ?? 80;
    this.#io.stderr.write(`\r\x1b[2K${formatProgressLine(state, columns - 1)}`);
    this.#drawn = true;
  }

  /** Erases the line, before the report is printed. */
  clear(): void {
    if (!this.#enabled || !this.#drawn) return;
    this.#io.stderr.write('\r\x1b[2K');
    this.#drawn = false;
  }
}
