// A time-series chart (uPlot on a canvas). `series` name the lines; `data` is uPlot's columns,
// [times, ...one array per series]; new data redraws in place, without rebuilding the chart.
// The figure carries `data-points` (how many samples it draws) for tests and automation.
import { html, useEffect, useRef } from '../../vendor/preact.js';
import uPlot from '../../vendor/uplot.js';
import { formatNumber } from '../format.js';

const HEIGHT = 220;

function ensureStylesheet(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
  document.head.append(link);
}

export function TimeChart({ testId, title, unit, series, data }) {
  const host = useRef();
  const plot = useRef();

  useEffect(() => {
    ensureStylesheet('/vendor/uplot.css');
    plot.current = new uPlot(chartOptions(series, unit, host.current.clientWidth), data, host.current);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: host.current.clientWidth, height: HEIGHT }));
    resize.observe(host.current);
    return () => {
      resize.disconnect();
      plot.current.destroy();
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
      <p class="visually-hidden">${describeLatest(series, unit, data)}</p>
    </figure>`;
}

/** uPlot's options for a chart of `series` (also used by bench/console.py, to time what users get). */
export function chartOptions(series, unit, width) {
  return {
    width: Math.max(width, 200),
    height: HEIGHT,
    scales: { x: { time: true } },
    series: [
      { label: 'Time' },
      ...series.map((line) => ({
        label: line.label,
        stroke: line.color,
        width: 2,
        value: (_, value) => (value == null ? '—' : `${formatNumber(value)} ${unit}`),
      })),
    ],
    axes: [{}, { size: 64, values: (_, ticks) => ticks.map((tick) => formatNumber(tick)) }],
  };
}

/** What the chart shows now, in words, for screen readers. */
function describeLatest(series, unit, data) {
  const last = data[0].length - 1;
  if (last < 0) return 'No samples yet.';
  return `${data[0].length} samples; latest: ` +
    series.map((line, i) => `${line.label} ${formatNumber(data[i + 1][last])} ${unit}`).join(', ') + '.';
}
