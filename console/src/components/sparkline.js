// A small trend line (inline SVG, no axes): how a figure moved over a test's last runs. The numbers
// are the API's; this only scales them into the box. Its words are in `label` for screen readers.
import { html } from '../../vendor/preact.js';

const WIDTH = 120;
const HEIGHT = 28;
const PAD = 3;

export function Sparkline({ values, label, testId }) {
  const points = values.map((value, i) => [i, value]).filter(([, value]) => value != null);
  if (points.length < 1) return html`<span class="muted">no Finished run</span>`;
  const max = Math.max(...points.map(([, v]) => v));
  const min = Math.min(...points.map(([, v]) => v));
  const x = (i) => PAD + (values.length > 1 ? (i / (values.length - 1)) * (WIDTH - 2 * PAD) : (WIDTH - 2 * PAD) / 2);
  const y = (v) => HEIGHT - PAD - (max > min ? ((v - min) / (max - min)) * (HEIGHT - 2 * PAD) : (HEIGHT - 2 * PAD) / 2);
  const [lastI, lastV] = points[points.length - 1];
  return html`
    <svg class="sparkline" role="img" aria-label=${label} data-testid=${testId} data-points=${points.length}
      width=${WIDTH} height=${HEIGHT} viewBox=${`0 0 ${WIDTH} ${HEIGHT}`}>
      <polyline fill="none" stroke="#1d4ed8" stroke-width="1.5" points=${points.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />
      <circle cx=${x(lastI)} cy=${y(lastV)} r="2.5" fill="#1d4ed8" />
    </svg>`;
}
