// Draws the report's charts with the inlined uPlot. Data: the JSON in #report-data, one spec per
// chart: {id, title, unit, time (x is epoch seconds) | false (x is seconds since start), x, series}
// or, to overlay runs sampled at different times, {..., runs: [{label, x, values}]} joined here.
const data = JSON.parse(document.getElementById('report-data').textContent);
const COLORS = ['#0b5cad', '#b3261e', '#6f42c1', '#1a7f37'];
const fmt = (v) => (v == null ? '-' : v === 0 ? '0' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(3));

function columns(spec) {
  if (!spec.runs) return [spec.x, ...spec.series.map((s) => s.values)];
  return uPlot.join(spec.runs.map((r) => [r.x, r.values]));
}

function draw(spec) {
  const figure = document.getElementById(spec.id);
  const host = figure.querySelector('.chart-host');
  const lines = spec.runs ?? spec.series;
  const options = {
    width: Math.max(host.clientWidth, 320),
    height: 240,
    scales: { x: { time: spec.time } },
    series: [
      { label: spec.time ? 'Time' : 'Seconds since start' },
      ...lines.map((line, i) => ({ label: line.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: !!spec.runs, value: (_, v) => `${fmt(v)} ${spec.unit}` })),
    ],
    axes: [{}, { size: 64, label: spec.unit, values: (_, ticks) => ticks.map(fmt) }],
    hooks: { draw: [() => { figure.dataset.drawn = 'true'; }] },
  };
  const cols = columns(spec);
  new uPlot(options, cols, host);
  figure.dataset.points = String(cols[0].length);
}

for (const spec of data.charts) draw(spec);

// In AWS the page is a static S3 object; the redirect that led here hands it a fresh, presigned link
// to Locust's own report in the fragment. Only an https URL is taken.
const handed = /[#&]locust=([^&]+)/.exec(location.hash);
const link = document.getElementById('locust-link');
if (handed && link) {
  try {
    const url = new URL(decodeURIComponent(handed[1]));
    if (url.protocol === 'https:') link.href = url.href;
  } catch { /* not a URL: keep the API link */ }
}
