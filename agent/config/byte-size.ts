/** Sizes and shares as people write them in configuration: `2GiB`, `500MB`, `5%`, `10000`. */

export type Amount = { readonly kind: 'absolute'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * Parses `12`, `12.5GiB`, `500 MB` or `5%`; returns undefined for anything else
 * (the schema turns that into a ConfigError naming the key).
 */
export function parseAmount(input: number | string): Amount | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? { kind: 'absolute', value: input } : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%|[a-zA-Z]*)\s*$/.exec(input);
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  if (unit === '%') return value <= 100 ? { kind: 'percent', value } : undefined;
  const factor = UNITS[unit];
  return factor === undefined ? undefined : { kind: 'absolute', value: Math.round(value * factor) };
}

/** The amount in absolute units, given the total it may be a share of. */
export function resolveAmount(amount: Amount, total: number): number {
  return amount.kind === 'absolute' ? amount.value : (total * amount.value) / 100;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Bytes for people, in the largest binary unit that keeps the number at 1 or more: `512 B`, `1.50 KiB`, `50.0 MiB`,
 * `205 KiB`, with three significant digits from KiB on (a number that rounds to 1024 moves to the next unit). Whole
 * bytes below 1 KiB. Pure; a negative or non-finite input is printed as a number of bytes.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
  if (Number(text) >= 1024 && unit < BINARY_UNITS.length - 1) return `1.00 ${BINARY_UNITS[unit + 1]}`;
  return `${text} ${BINARY_UNITS[unit]}`;
}
