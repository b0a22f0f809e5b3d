// Generator health on a run page: whether a load generator (a Locust process) was saturated, from the
// run's generatorSaturated / generatorHealth (kept at Finalize). A saturated one gets a warning banner:
// the criteria were judged, but the numbers may understate what the target can do.
import { html } from '../../vendor/preact.js';
import { formatNumber, formatPercent } from '../format.js';

/** The banner under the result: shown only when a generator was saturated. */
export function GeneratorBanner({ run }) {
  if (run.generatorSaturated !== true || !run.generatorHealth) return null;
  return html`<div class="warning-box" role="alert" data-testid="generator-saturated">
    <strong>${run.generatorHealth.message}</strong>${' The criteria were judged as usual, on these numbers.'}</div>`;
}

/** Each Locust process's figures, and the verdict in words. */
export function GeneratorHealth({ run }) {
  const health = run.generatorHealth;
  if (!health) return null;
  return html`
    <section aria-labelledby="generators-heading" data-testid="generator-health">
      <h2 id="generators-heading">Load generators</h2>
      <p data-testid="generator-verdict">${health.message}</p>
      <table class="listing numeric" data-testid="generator-table">
        <thead><tr>
          <th scope="col">Generator</th><th scope="col">Time above ${formatNumber(health.thresholdPercent, 0)} %</th>
          <th scope="col">Peak demand %</th><th scope="col">Peak CPU %</th><th scope="col">Peak memory MiB</th>
          <th scope="col">Readings</th><th scope="col">Verdict</th>
        </tr></thead>
        <tbody>${health.generators.map((g) => html`
          <tr data-generator=${g.generator}>
            <th scope="row">${g.generator}</th><td>${formatPercent(g.shareAbove)}</td><td>${formatNumber(g.peakPercent)}</td>
            <td>${formatNumber(g.peakCpuPercent)}</td><td>${g.peakMemoryBytes == null ? '—' : formatNumber(g.peakMemoryBytes / 1048576)}</td>
            <td>${g.samples}</td><td>${!g.judged ? 'too few readings' : g.saturated ? 'saturated' : 'ok'}</td>
          </tr>`)}
        </tbody>
      </table>
      <p class="note">Demand: CPU time plus the time the process waited for a CPU, as a percentage of one core.</p>
    </section>`;
}
