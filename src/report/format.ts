/**
 * Numbers and text shortened for people: sizes, changes, durations.
 *
 * Sizes use decimal units as `docker images` does (1 MB = 1,000,000 bytes), with a space and one
 * decimal (`429.3 MB`, `12.0 kB`; gigabytes get two: `1.25 GB`), so a figure in the comment can be
 * checked against the engine's own. Negative numbers use the minus sign U+2212 (`−30.1 MB`), which
 * reads as a minus in tables where a hyphen is easy to miss.
 */

export const MINUS = '\u2212';
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** `459000000` → `459.0 MB`; `512` → `512 B`. Negative sizes get a minus sign. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  const sign = bytes < 0 ? MINUS : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (unit < UNITS.length - 1 && roundTo(value, decimalsFor(unit)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  return `${sign}${value.toFixed(decimalsFor(unit))} ${UNITS[unit]}`;
}

/** A size change with an explicit sign: `+1.2 MB`, `−30.1 MB`, `0 B`. */
export function formatSignedBytes(delta: number): string {
  if (delta === 0) return '0 B';
  return delta > 0 ? `+${formatBytes(delta)}` : formatBytes(delta);
}

/** A fraction as a signed percentage with one decimal: `-0.065` → `−6.5%`. */
export function formatSignedPercent(fraction: number): string {
  const text = Math.abs(fraction * 100).toFixed(1);
  if (text === '0.0') return '0.0%';
  return `${fraction < 0 ? MINUS : '+'}${text}%`;
}

/** A size change against a base: `formatDelta(-30.1e6, 459e6)` → `−30.1 MB (−6.6%)`; no percentage when the base is 0. */
export function formatDelta(delta: number, base: number): string {
  const bytes = formatSignedBytes(delta);
  return base > 0 ? `${bytes} (${formatSignedPercent(delta / base)})` : bytes;
}

/** A duration: `1.2 s`, or milliseconds under a tenth of a second (`40 ms`). */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? MINUS : '';
  if (abs < 100) return `${sign}${Math.round(abs)} ms`;
  return `${sign}${(abs / 1000).toFixed(1)} s`;
}

/** A duration change with an explicit sign: `+0.8 s`, `−40 ms`. */
export function formatSignedDuration(ms: number): string {
  return ms >= 0 ? `+${formatDuration(ms)}` : formatDuration(ms);
}

/** A count with thousands separators, independent of the runner's locale: `12,345`. */
export function formatCount(count: number): string {
  return Math.round(count)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The 7-character form of a commit sha, as GitHub shows it. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * Keeps at most `max` UTF-16 units of `text`, from the start (`keep: 'head'`) or the end, without
 * splitting a surrogate pair. Returns the text unchanged when it fits.
 */
export function truncateText(text: string, max: number, keep: 'head' | 'tail'): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (keep === 'head') {
    const end = isLowSurrogate(text.charCodeAt(max)) ? max - 1 : max;
    return text.slice(0, end);
  }
  const start = text.length - max;
  return text.slice(isLowSurrogate(text.charCodeAt(start)) ? start + 1 : start);
}

/** Shortens a long single-line value in the middle, keeping both ends: `/venv/lib/…/x.so`. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.max(1, Math.floor((max - 1) / 2));
  return `${truncateText(text, half, 'head')}…${truncateText(text, half, 'tail')}`;
}

function decimalsFor(unit: number): number {
  if (unit === 0) return 0;
  return unit >= 3 ? 2 : 1;
}

function roundTo(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
