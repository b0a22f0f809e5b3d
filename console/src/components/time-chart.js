// A time-series chart (uPlot on a canvas). `series` name the lines; `data` is uPlot's columns,
// [xs, ...one array per series]; new data redraws in place, without rebuilding the chart.
// The figure carries `data-points` (how many x values it draws) for tests and automation.
// Options for other charts than the run page's: `x` ({time: false, label}) for an x axis that is not
// a clock (seconds since a run's start), `labels` (one text per x, drawn above the first series'
// points: the trends' revision numbers) and `markers` ({x, label} vertical lines: where the revision
// changed), `points` to draw each value as a dot, and `scale` to pin the y axis from zero.
import { html, useEffect, useRef } from '../../vendor/preact.js';
import uPlot from '../../vendor/uplot.js';
import { formatNumber } from '../format.js';

const HEIGHT = 220;

function ensureStylesheet(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
  document.head.append(link);
}

export function TimeChart({ testId, title, unit, series, data, options = {}, describe }) {
  const host = useRef();
  const plot = useRef();
  const extras = useRef(options);
  extras.current = options;

  useEffect(() => {
    ensureStylesheet('/vendor/uplot.css');
    const element = host.current; // the ref is cleared on unmount, possibly before a last resize callback
    plot.current = new uPlot(chartOptions(series, unit, element.clientWidth, extras), data, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: element.clientWidth, height: HEIGHT }));
    resize.observe(host.current);
    return () => {
      resize.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const points = data[0].length;
  return html`
    <figure class="chart" data-testid=${testId} data-points=${points}>
      <figcaption>${title}</figcaption>
      <div class="chart-host" ref=${host}></div>
      <p class="visually-hidden">${describe ? describe(data) : describeLatest(series, unit, data)}</p>
    </figure>`;
}

/**
 * uPlot's options for a chart of `series` (also used by bench/console.py, to time what users get).
 * `extras` is a ref to the optional settings above (read at each draw, so labels follow new data).
 */
export function chartOptions(series, unit, width, extras = { current: {} }) {
  const settings = extras.current || {};
  const time = settings.x?.time ?? true;
  return {
    width: Math.max(width, 200),
    height: HEIGHT,
    scales: {
      // Trends: room around the first and last points and above the highest, for their labels.
      x: settings.padX ? { time, range: (_, min, max) => padded(min, max) } : { time },
      ...(settings.scale === 'zero' ? { y: { range: (_, min, max) => [0, max > 0 ? max * 1.25 : 1] } } : {}),
    },
    series: [
      time ? { label: 'Time' } : { label: settings.x?.label ?? 'x', value: (_, value) => (value == null ? '—' : formatNumber(value)) },
      ...series.map((line) => ({
        label: line.label,
        stroke: line.color,
        width: 2,
        spanGaps: settings.spanGaps ?? false,
        points: settings.points ? { show: true, size: 7, fill: line.color } : undefined,
        value: (_, value) => (value == null ? '—' : `${formatNumber(value)} ${unit}`),
      })),
    ],
    axes: [
      time ? {} : { label: settings.x?.label, labelSize: 20 },
      { size: 64, values: (_, ticks) => ticks.map((tick) => formatNumber(tick)) },
    ],
    hooks: settings.labels || settings.markers ? { draw: [(u) => drawAnnotations(u, extras.current)] } : {},
  };
}

function padded(min, max) {
  const margin = max > min ? (max - min) * 0.06 : 60;
  return [min - margin, max + margin];
}

/** Revision labels above the first series' points and vertical markers (canvas pixels). */
function drawAnnotations(u, { labels, markers }) {
  const { ctx, bbox } = u;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.font = `${Math.round(11 * ratio)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  for (const marker of markers || []) {
    const x = Math.round(u.valToPos(marker.x, 'x', true));
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.strokeStyle = '#6b7280';
    ctx.setLineDash([4 * ratio, 4 * ratio]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillStyle = '#374151';
    ctx.fillText(marker.label, x, bbox.top + 10 * ratio);
  }
  ctx.setLineDash([]);
  ctx.fillStyle = '#111827';
  const xs = u.data[0];
  const ys = u.data[1] || [];
  for (let i = 0; i < xs.length && labels; i++) {
    if (ys[i] == null || !labels[i]) continue;
    ctx.fillText(labels[i], u.valToPos(xs[i], 'x', true), u.valToPos(ys[i], 'y', true) - 8 * ratio);
  }
  ctx.restore();
}

/** What the chart shows now, in words, for screen readers. */
function describeLatest(series, unit, data) {
  const last = data[0].length - 1;
  if (last < 0) return 'No samples yet.';
  return `${data[0].length} samples; latest: ` +
    series.map((line, i) => `${line.label} ${formatNumber(data[i + 1][last])} ${unit}`).join(', ') + '.';
}
