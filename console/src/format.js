// How numbers and times are shown. Display only: every figure comes from the API as it is.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export const formatDateTime = (epochMs) => (epochMs == null ? '—' : dateTime.format(new Date(epochMs)));
export const formatTime = (epochMs) => (epochMs == null ? '—' : time.format(new Date(epochMs)));

export function formatNumber(value, digits = 1) {
  if (value == null || Number.isNaN(value)) return '—';
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export const formatMs = (value) => (value == null ? '—' : `${formatNumber(value, 0)} ms`);
export const formatPercent = (ratio) => (ratio == null ? '—' : `${formatNumber(ratio * 100, 2)} %`);

export function formatSeconds(seconds) {
  if (seconds == null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export const shortId = (id) => (id ? id.slice(0, 8) : '');

/** A change as the API computed it (`Delta.percent`), with its sign. */
export const formatSignedPercent = (percent) =>
  (percent == null ? '—' : `${percent > 0 ? '+' : ''}${formatNumber(percent, 1)} %`);

/** A figure in its own unit: ms for latencies, a percentage for failRatio, a plain number otherwise. */
export function formatFigure(metric, value) {
  if (value == null) return '—';
  if (metric === 'failRatio') return formatPercent(value);
  if (/Ms$/.test(metric)) return `${formatNumber(value, 1)} ms`;
  return formatNumber(value, metric === 'rps' ? 2 : 1);
}

/** Metric names as people read them (the API's names are kept next to them where they are typed). */
export const METRIC_LABELS = {
  p50Ms: 'p50', p90Ms: 'p90', p95Ms: 'p95', p99Ms: 'p99', avgMs: 'average', maxMs: 'max',
  failRatio: 'failure ratio', rps: 'requests/s', requests: 'requests', failures: 'failures',
};
