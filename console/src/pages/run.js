// /runs/{id} — one run: its status and timeline, live charts that refresh without a reload while
// it runs, stop; at the end the per-endpoint table, the errors, and the revision it used.
import { html, useEffect, useMemo, useState } from '../../vendor/preact.js';
import { getRun, getTest, stopRun } from '../api.js';
import { formatDateTime, formatMs, formatNumber, formatPercent, formatSeconds, formatTime, shortId } from '../format.js';
import { useApi, usePolling } from '../hooks.js';
import { createMetricsFeed, toColumns } from '../metrics.js';
import { ErrorMessage, Loading, Upcoming } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { FINAL_STATUSES, ResultBadge, StatusBadge } from '../components/status.js';
import { TimeChart } from '../components/time-chart.js';

// Short while the status is about to change (Pending, Starting, Stopping), so each step shows;
// every 2 s while load runs, which is also how often the charts gain a point.
const POLL_TRANSITION_MS = 1000;
const POLL_RUNNING_MS = 2000;
const NO_SAMPLES_YET = new Set(['Pending', 'Starting']);

function pollDelay(status) {
  if (FINAL_STATUSES.has(status)) return null;
  return status === 'Running' ? POLL_RUNNING_MS : POLL_TRANSITION_MS;
}

export default function RunPage({ params }) {
  const { runId } = params;
  const feed = useMemo(() => createMetricsFeed(runId), [runId]);
  const [run, setRun] = useState(null);
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState(null);

  async function refresh() {
    try {
      const latest = await getRun(runId);
      setRun(latest);
      if (!NO_SAMPLES_YET.has(latest.status)) setSamples(await feed.refresh());
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }
  useEffect(() => {
    refresh();
  }, [runId]);
  usePolling(refresh, run ? pollDelay(run.status) : null);

  return html`
    <${PageHeading} title=${`Run ${shortId(runId)}`} />
    <${ErrorMessage} error=${error} title="Could not load the run" />
    ${run ? html`<${RunView} run=${run} samples=${samples} onStopped=${refresh} />` : !error && html`<${Loading} what="Loading the run" />`}`;
}

// TODO(issue-7): criteria results, "compare with baseline / another run" (a link to
// /runs/compare), and a trigger's origin (issue 8) replace the Upcoming section at the end.
function RunView({ run, samples, onStopped }) {
  const final = FINAL_STATUSES.has(run.status);
  return html`
    <${RunHeader} run=${run} onStopped=${onStopped} />
    ${run.failureReason ? html`<div class="error" role="alert"><strong>Failure: </strong>${run.failureReason}</div>` : null}
    <div class="columns">
      <${StatusTimeline} history=${run.statusHistory} />
      ${final && run.summary ? html`<${Summary} summary=${run.summary} />` : html`<${LiveFigures} live=${run.live} />`}
    </div>
    <${Charts} samples=${samples} />
    ${final ? html`
      <${EndpointTable} endpoints=${run.endpoints} />
      <${ErrorsTable} errors=${run.errors} />
      <${Report} location=${run.reportLocation} />
      <${Upcoming} title="Criteria results and comparison" issue="7">
        Each pass/fail criterion's outcome, and a comparison with the baseline or another run, will be shown here.
      </${Upcoming}>` : null}`;
}

function RunHeader({ run, onStopped }) {
  const test = useApi(() => getTest(run.loadTestId), [run.loadTestId]);
  const [stopError, setStopError] = useState(null);
  const testPath = `/tests/${encodeURIComponent(run.loadTestId)}`;

  async function stop() {
    setStopError(null);
    try {
      await stopRun(run.id);
      onStopped();
    } catch (failure) {
      setStopError(failure);
    }
  }

  return html`
    <section class="run-header" aria-label="Run overview">
      <p class="run-state">
        <span aria-live="polite">Status: <${StatusBadge} status=${run.status} testId="run-status" />
        ${' '}Result: <${ResultBadge} result=${run.result} /></span>
        ${!FINAL_STATUSES.has(run.status) ? html`
          <button type="button" class="danger" data-testid="stop-run" onClick=${stop}
            disabled=${run.status === 'Stopping' || run.stopRequestedAt != null}>Stop run</button>` : null}
      </p>
      <${ErrorMessage} error=${stopError} title="Not stopped" />
      <dl class="facts">
        <dt>Test</dt><dd><a href=${`${testPath}/runs`}>${test.data?.name ?? run.loadTestId}</a></dd>
        <dt>Revision</dt>
        <dd><a href=${`${testPath}?revision=${run.revisionNumber}`}>Revision ${run.revisionNumber}</a>
          <span class="muted"> sha256 ${run.scriptSha256.slice(0, 12)}</span></dd>
        <dt>Load</dt><dd>${run.targetUsers} users, spawn rate ${formatNumber(run.spawnRate)}/s, ${formatSeconds(run.durationSeconds)}, ${run.workers} worker${run.workers === 1 ? '' : 's'}</dd>
        <dt>Target</dt><dd class="url">${run.targetUrl}</dd>
        <dt>Started by</dt><dd>${run.createdBy}, ${formatDateTime(run.createdAt)}</dd>
        ${run.backend ? html`<dt>Backend</dt><dd>${run.backend}</dd>` : null}
      </dl>
    </section>`;
}

function StatusTimeline({ history }) {
  return html`
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      <ol class="timeline" data-testid="status-timeline">
        ${history.map((change) => html`
          <li>
            <${StatusBadge} status=${change.status} /> <time datetime=${new Date(change.at).toISOString()}>${formatTime(change.at)}</time>
            <span class="muted"> by ${change.actor}</span>${change.reason ? html`: ${change.reason}` : null}
          </li>`)}
      </ol>
    </section>`;
}

function LiveFigures({ live }) {
  return html`
    <section aria-labelledby="live-heading">
      <h2 id="live-heading">Now</h2>
      ${live ? html`
        <dl class="figures">
          <dt>Users</dt><dd>${live.users}</dd>
          <dt>Requests/s</dt><dd>${formatNumber(live.rps)}</dd>
          <dt>Failures/s</dt><dd>${formatNumber(live.failuresPerSecond)}</dd>
          <dt>p50 / p95 / p99</dt><dd>${formatMs(live.p50Ms)} / ${formatMs(live.p95Ms)} / ${formatMs(live.p99Ms)}</dd>
          <dt>Requests (failed)</dt><dd>${live.totalRequests} (${live.totalFailures})</dd>
        </dl>` : html`<p class="muted">No figures yet.</p>`}
    </section>`;
}

function Summary({ summary }) {
  return html`
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Summary</h2>
      <dl class="figures">
        <dt>Requests</dt><dd>${summary.totalRequests}</dd>
        <dt>Failures</dt><dd>${summary.totalFailures} (${formatPercent(summary.failRatio)})</dd>
        <dt>Requests/s</dt><dd>${formatNumber(summary.rps)}</dd>
        <dt>p50 / p95 / p99</dt><dd>${formatMs(summary.p50Ms)} / ${formatMs(summary.p95Ms)} / ${formatMs(summary.p99Ms)}</dd>
        <dt>Duration</dt><dd>${formatSeconds(summary.durationSeconds)}</dd>
      </dl>
    </section>`;
}

/** The run page's charts: which figures of the samples each one draws (bench/console.py times these). */
export const CHARTS = [
  {
    testId: 'chart-rps', title: 'Requests and failures per second', unit: '/s',
    series: [{ label: 'Requests/s', color: '#1d4ed8' }, { label: 'Failures/s', color: '#b91c1c' }],
    columns: (c) => [c.time, c.rps, c.failuresPerSecond],
  },
  {
    testId: 'chart-latency', title: 'Response time percentiles', unit: 'ms',
    series: [{ label: 'p50', color: '#15803d' }, { label: 'p95', color: '#c2410c' }, { label: 'p99', color: '#7e22ce' }],
    columns: (c) => [c.time, c.p50Ms, c.p95Ms, c.p99Ms],
  },
  {
    testId: 'chart-users', title: 'Users', unit: '',
    series: [{ label: 'Users', color: '#0f766e' }],
    columns: (c) => [c.time, c.users],
  },
];

function Charts({ samples }) {
  const data = useMemo(() => {
    const columns = toColumns(samples);
    return CHARTS.map((chart) => chart.columns(columns));
  }, [samples]);
  return html`
    <section aria-labelledby="charts-heading">
      <h2 id="charts-heading">Charts</h2>
      <div class="charts">
        ${CHARTS.map((chart, i) => html`
          <${TimeChart} key=${chart.testId} testId=${chart.testId} title=${chart.title} unit=${chart.unit}
            series=${chart.series} data=${data[i]} />`)}
      </div>
    </section>`;
}

function EndpointTable({ endpoints }) {
  return html`
    <section aria-labelledby="endpoints-heading">
      <h2 id="endpoints-heading">Endpoints</h2>
      ${endpoints.length ? html`
        <table class="listing numeric" data-testid="endpoint-table">
          <thead><tr>
            <th scope="col">Method</th><th scope="col">Name</th><th scope="col">Requests</th><th scope="col">Failures</th>
            <th scope="col">Avg</th><th scope="col">Min</th><th scope="col">Max</th>
            <th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th><th scope="col">Requests/s</th>
          </tr></thead>
          <tbody>${endpoints.map((e) => html`
            <tr>
              <td>${e.method}</td><th scope="row">${e.name}</th><td>${e.requests}</td><td>${e.failures}</td>
              <td>${formatMs(e.avgMs)}</td><td>${formatMs(e.minMs)}</td><td>${formatMs(e.maxMs)}</td>
              <td>${formatMs(e.p50Ms)}</td><td>${formatMs(e.p95Ms)}</td><td>${formatMs(e.p99Ms)}</td><td>${formatNumber(e.rps)}</td>
            </tr>`)}
          </tbody>
        </table>` : html`<p class="muted">No per-endpoint results were recorded.</p>`}
    </section>`;
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

/** Locust's HTML report: a link when the API gives a URL; locally it is a file on the server. */
function Report({ location }) {
  if (!location) return null;
  return html`
    <p>Locust's HTML report: ${/^https?:\/\//.test(location) ? html`<a href=${location}>open the report</a>` : html`<code>${location}</code>`}</p>`;
}
