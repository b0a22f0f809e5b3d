// The end of a run page: the result (criteria results, auto-stop's reason), the per-endpoint table
// and the errors from GET /v1/runs/{id}/stats, the report pages, and the way to a comparison.
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { setBaseline } from '../api.js';
import { formatMs, formatNumber, formatPercent } from '../format.js';
import { CriteriaResults, StopReason } from './criteria-results.js';
import { ErrorMessage, Loading, Notice } from './messages.js';
import { GeneratorBanner, GeneratorHealth } from './generator-health.js';
import { ReportLink } from './report-link.js';
import { ResultBadge } from './status.js';

export function RunResults({ run, stats, test, onTestChanged }) {
  return html`
    <section aria-labelledby="result-heading">
      <h2 id="result-heading">Result: <${ResultBadge} result=${run.result} /></h2>
      <${GeneratorBanner} run=${run} />
      <${StopReason} reason=${run.stopReason} />
      <${CriteriaResults} results=${run.criteriaResults} />
      <${Baseline} run=${run} test=${test} onTestChanged=${onTestChanged} />
    </section>
    <${GeneratorHealth} run=${run} />
    ${stats ? html`
      <${EndpointTable} stats=${stats} />
      <${ErrorsTable} errors=${stats.errors ?? []} />` : html`<${Loading} what="Loading the per-endpoint table" />`}
    <${Reports} run=${run} />`;
}

/** Compare with the test's baseline, or make this run the baseline (PUT …/baseline). */
function Baseline({ run, test, onTestChanged }) {
  const [outcome, setOutcome] = useState({ error: null, message: null });
  if (!test) return null;
  const baseline = test.baselineRunId;
  async function makeBaseline() {
    setOutcome({ error: null, message: null });
    try {
      onTestChanged(await setBaseline(test.id, run.id));
      setOutcome({ error: null, message: 'This run is now the test\u2019s baseline.' });
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  const runsPage = `/tests/${encodeURIComponent(test.id)}/runs`;
  return html`
    <div class="actions-row">
      ${baseline === run.id ? html`<span class="badge" data-testid="is-baseline">The test's baseline run</span>`
        : baseline ? html`<a href=${`/runs/compare?base=${encodeURIComponent(baseline)}&target=${encodeURIComponent(run.id)}`}
            data-testid="compare-with-baseline">Compare with the baseline</a>`
        : html`<span class="muted">The test has no baseline run.</span>`}
      <a href=${runsPage}>Compare with another run</a>
      ${run.status === 'Finished' && baseline !== run.id && may('PUT /v1/load-tests/{testId}/baseline') ? html`
        <button type="button" class="secondary" data-testid="make-baseline" onClick=${makeBaseline}>Make this run the baseline</button>` : null}
    </div>
    <${ErrorMessage} error=${outcome.error} title="Not set as the baseline" />
    ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}`;
}

const STAT_COLUMNS = [
  ['requests', 'Requests', (v) => v], ['failures', 'Failures', (v) => v], ['failRatio', 'Failure ratio', formatPercent],
  ['avgMs', 'Avg', formatMs], ['minMs', 'Min', formatMs], ['maxMs', 'Max', formatMs],
  ['p50Ms', 'p50', formatMs], ['p90Ms', 'p90', formatMs], ['p95Ms', 'p95', formatMs], ['p99Ms', 'p99', formatMs],
  ['rps', 'Requests/s', (v) => formatNumber(v, 2)],
];

function EndpointTable({ stats }) {
  const summary = stats.summary;
  const all = summary && {
    method: '', name: 'All requests', requests: summary.totalRequests, failures: summary.totalFailures, failRatio: summary.failRatio,
    avgMs: summary.avgMs, minMs: null, maxMs: summary.maxMs, p50Ms: summary.p50Ms, p90Ms: summary.p90Ms,
    p95Ms: summary.p95Ms, p99Ms: summary.p99Ms, rps: summary.rps,
  };
  return html`
    <section aria-labelledby="endpoints-heading">
      <h2 id="endpoints-heading">Endpoints</h2>
      ${stats.endpoints.length ? html`
        <table class="listing numeric" data-testid="endpoint-table">
          <thead><tr>
            <th scope="col">Method</th><th scope="col">Name</th>${STAT_COLUMNS.map(([, label]) => html`<th scope="col">${label}</th>`)}
          </tr></thead>
          <tbody>
            ${stats.endpoints.map((row) => html`<${StatRow} row=${row} />`)}
            ${all ? html`<${StatRow} row=${all} total=${true} />` : null}
          </tbody>
        </table>
        <p class="note" data-testid="table-percentiles-note">
          ${stats.final ? 'Locust\u2019s final figures for the whole run: each percentile is over every request of the run (cumulative), as Locust\u2019s own report states it.'
            : 'The latest sample\u2019s figures (the run has not been finalised).'}
          ${' '}A chart of one endpoint shows the same cumulative percentiles over time; its last point is the last sample, taken up to one poll before the run ended.
          The charts of all requests show Locust's ~10 s window for p50 and p95, which is why they can differ from this table.
        </p>` : html`<p class="muted" data-testid="endpoint-table">No per-endpoint results were recorded.</p>`}
    </section>`;
}

function StatRow({ row, total = false }) {
  return html`
    <tr class=${total ? 'total' : ''} data-endpoint=${total ? '' : `${row.method} ${row.name}`}>
      <td>${row.method}</td><th scope="row">${row.name}</th>
      ${STAT_COLUMNS.map(([key, , format]) => html`<td data-column=${key}>${row[key] == null ? '—' : format(row[key])}</td>`)}
    </tr>`;
}

function ErrorsTable({ errors }) {
  return html`
    <section aria-labelledby="errors-heading">
      <h2 id="errors-heading">Errors</h2>
      ${errors.length ? html`
        <table class="listing" data-testid="errors-table">
          <thead><tr><th scope="col">Method</th><th scope="col">Name</th><th scope="col">Error</th><th scope="col">Occurrences</th></tr></thead>
          <tbody>${errors.map((e) => html`
            <tr><td>${e.method}</td><td>${e.name}</td><td class="error-text">${e.error}</td><td>${e.occurrences}</td></tr>`)}
          </tbody>
        </table>` : html`<p class="muted">No errors.</p>`}
    </section>`;
}

/** The API's report pages, in a new tab (with sign-in, through `?format=link`: see ReportLink). */
function Reports({ run }) {
  return html`
    <section aria-labelledby="reports-heading">
      <h2 id="reports-heading">Reports</h2>
      <ul class="links" data-testid="report-links">
        <li><${ReportLink} path=${`/v1/runs/${encodeURIComponent(run.id)}/report`}>Results report<//>:
          charts, criteria, endpoints and errors in one self-contained page</li>
        ${run.reportLocation ? html`
          <li><${ReportLink} path=${`/v1/runs/${encodeURIComponent(run.id)}/locust-report`}>Locust's report<//>:
            Locust's own HTML report of the run</li>` : null}
      </ul>
    </section>`;
}
