/** Durations as people write them in configuration: `24h`, `10s`, `1h30m`, `500ms`, `7d`. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** What a duration setting takes, in words that read after "expected". */
export const DURATION_WORDS = 'a duration such as 10s, 5m, 24h, 1h30m or 7d';

/**
 * Parses `10s`, `1.5h`, `1h30m`, `500ms`, `7d` (units ms, s, m, h, d, w; parts in any order, each unit once) into
 * milliseconds; returns undefined for anything else, a bare number included (seconds or milliseconds? the unit
 * must be said), so the schema can name the key and the value. Pure.
 */
export function parseDuration(input: string): number | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  const part = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*/gy;
  const seen = new Set<string>();
  let total = 0;
  let end = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    const unit = match[2]!;
    if (seen.has(unit)) return undefined;
    seen.add(unit);
    total += Number(match[1]) * UNIT_MS[unit]!;
    end = part.lastIndex;
  }
  if (end !== text.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/** Milliseconds for people: `24h`, `1h30m`, `10s`, `250ms` (the largest units, at most two parts). Pure. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= seconds && parts.length < 2) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    } else if (parts.length > 0) break;
  }
  return parts.join('');
}
