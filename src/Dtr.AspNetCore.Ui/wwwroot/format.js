// Formatting of sizes, times, digests and severities, the same on every page.

const sizeUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Formats a byte count in binary units, such as "12.3 MiB". */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) {
    return '—';
  }
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < sizeUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${sizeUnits[unit]}`;
}

/** Formats an ISO 8601 time in the reader's locale and time zone. */
export function formatTime(iso) {
  if (!iso) {
    return '—';
  }
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toLocaleString();
}

/** Shortens a digest to its algorithm and first 12 hexadecimal digits. */
export function shortDigest(digest) {
  if (!digest) {
    return '—';
  }
  const [algorithm, hex] = digest.split(':');
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}

/** The severities the scanner reports, worst first, as the API spells them. */
export const severities = ['critical', 'high', 'medium', 'low', 'unknown'];

/** Returns a severity with a capital first letter, for display. */
export function severityLabel(severity) {
  const text = String(severity ?? 'unknown');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
