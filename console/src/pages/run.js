// /runs/{id} — one run: its status and timeline, what started it, live charts that refresh without
// a reload while it runs, stop; at the end its result (criteria, auto-stop), the per-endpoint table
// from GET /v1/runs/{id}/stats, the errors, the reports, and a comparison with the baseline.
import { html, useEffect, useMemo, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { getRun, getRunStats, getTest, stopRun } from '../api.js';
import { formatDateTime, formatMs, formatNumber, formatPercent, formatSeconds, formatTime, shortId } from '../format.js';
import { useApi, usePolling } from '../hooks.js';
import { createMetricsFeed, toColumns } from '../metrics.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { describeCriterion } from '../components/criteria-results.js';
import { RunEnvironment } from '../components/run-environment.js';
import { RunOrigin } from '../components/run-origin.js';
import { RunResults } from '../components/run-results.js';
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

export default function RunPage({ params, query }) {
  const { runId } = params;
  const endpoint = query.endpoint || null; // the charts of one endpoint: its own URL, like every view
  const feed = useMemo(() => createMetricsFeed(runId, endpoint), [runId, endpoint]);
  const [run, setRun] = useState(null);
  const [samples, setSamples] = useState([]);
  const [stats, setStats] = useState(null);
  const [error, setError] = useState(null);

  async function refresh() {
    try {
      const latest = await getRun(runId);
      setRun(latest);
      if (!NO_SAMPLES_YET.has(latest.status)) setSamples(await feed.refresh());
      // The table once the run is final: Locust's final master-merged figures, read once.
      if (FINAL_STATUSES.has(latest.status) && !stats) setStats(await getRunStats(runId));
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
    ${run ? html`<${RunView} run=${run} samples=${samples} info=${feed.info} stats=${stats} endpoint=${endpoint} onChanged=${refresh} />`
      : !error && html`<${Loading} what="Loading the run" />`}`;
}

function RunView({ run, samples, info, stats, endpoint, onChanged }) {
  const final = FINAL_STATUSES.has(run.status);
  const test = useApi(() => getTest(run.loadTestId), [run.loadTestId]);
  return html`
    <${RunHeader} run=${run} test=${test.data} onStopped=${onChanged} />
    ${run.failureReason ? html`<div class="error" role="alert"><strong>Failure: </strong>${run.failureReason}</div>` : null}
    <div class="columns">
      <${StatusTimeline} history=${run.statusHistory} />
      ${final && run.summary ? html`<${Summary} summary=${run.summary} />` : html`<${LiveFigures} live=${run.live} />`}
    </div>
    <${Charts} run=${run} samples=${samples} info=${info} endpoint=${endpoint} endpoints=${stats?.endpoints} />
    ${final ? html`<${RunResults} run=${run} stats=${stats} test=${test.data} onTestChanged=${test.setData} />`
      : html`<${Gates} run=${run} />`}`;
}

function RunHeader({ run, test, onStopped }) {
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
        ${' '}Result: <${ResultBadge} result=${run.result} testId="run-result" /></span>
        ${!FINAL_STATUSES.has(run.status) && may('POST /v1/runs/{runId}/stop') ? html`
          <button type="button" class="danger" data-testid="stop-run" onClick=${stop}
            disabled=${run.status === 'Stopping' || run.stopRequestedAt != null}>Stop run</button>` : null}
      </p>
      <${ErrorMessage} error=${stopError} title="Not stopped" />
      <dl class="facts">
        <dt>Test</dt><dd><a href=${`${testPath}/runs`}>${test?.name ?? run.loadTestId}</a></dd>
        <dt>Revision</dt>
        <dd><a href=${`${testPath}?revision=${run.revisionNumber}`}>Revision ${run.revisionNumber}</a>
          <span class="muted"> sha256 ${run.scriptSha256.slice(0, 12)}</span></dd>
        <dt>Load</dt><dd>${run.targetUsers} users, spawn rate ${formatNumber(run.spawnRate)}/s, ${formatSeconds(run.durationSeconds)}, ${run.workers} worker${run.workers === 1 ? '' : 's'}</dd>
        <dt>Target</dt><dd class="url">${run.targetUrl}</dd>
        <dt>Started by</dt><dd><${RunOrigin} run=${run} />, ${formatDateTime(run.createdAt)}</dd>
        ${run.backend ? html`<dt>Backend</dt><dd>${run.backend}${run.locustVersion ? html`<span class="muted">, Locust ${run.locustVersion}</span>` : null}</dd>` : null}
        ${run.usage ? html`<dt>Usage</dt><dd data-testid="run-usage">${formatNumber(run.usage.vcpuSeconds / 3600, 4)} vCPU-hours, ${formatNumber(run.usage.memoryGbSeconds / 3600, 4)} GB-hours (${run.usage.roles.map((r) => `${r.count} ${r.role}`).join(', ')}), about ${formatNumber(run.usage.estimatedCost.amount, 4)} ${run.usage.estimatedCost.currency}</dd>` : null}
        ${run.variables?.length || run.secrets?.length ? html`<dt>Environment</dt><dd><${RunEnvironment} run=${run} /></dd>` : null}
      </dl>
    </section>`;
}

/** While it runs: what the run will be judged by at the end (fixed when it was created). */
function Gates({ run }) {
  return html`
    <section aria-labelledby="gates-heading">
      <h2 id="gates-heading">Judged at the end by</h2>
      ${run.criteria?.length ? html`<ul data-testid="run-criteria">${run.criteria.map((c) => html`<li>${describeCriterion(c)}</li>`)}</ul>`
        : html`<p class="muted">No criteria: the result will be "Not evaluated".</p>`}
      <p class="muted">${run.autoStop?.enabled
        ? `Auto-stop: the run stops if its failure ratio reaches ${formatPercent(run.autoStop.failRatio)} over ${run.autoStop.windowSeconds} s.`
        : 'No auto-stop.'}</p>
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

function Charts({ run, samples, info, endpoint, endpoints }) {
  const data = useMemo(() => {
    const columns = toColumns(samples);
    return CHARTS.map((chart) => chart.columns(columns));
  }, [samples]);
  return html`
    <section aria-labelledby="charts-heading">
      <h2 id="charts-heading">Charts${endpoint ? html`: <code>${endpoint}</code>` : ' (all requests)'}</h2>
      ${endpoints?.length ? html`<${EndpointPicker} run=${run} endpoint=${endpoint} endpoints=${endpoints} />` : null}
      <div class="charts">
        ${CHARTS.map((chart, i) => html`
          <${TimeChart} key=${chart.testId} testId=${chart.testId} title=${chart.title} unit=${chart.unit}
            series=${chart.series} data=${data[i]} />`)}
      </div>
      <${PointsNote} info=${info} />
    </section>`;
}

/** What a chart point is, in the API's words (`percentiles`) and the bucket rule (README: Results). */
function PointsNote({ info }) {
  if (!info) return null;
  return html`
    <p class="note" data-testid="chart-points-note">
      Percentiles in these charts: ${info.percentiles}. One point covers ${formatSeconds(info.stepMs / 1000)}: when several
      samples fall into it, users and each percentile are the <em>highest</em> value any of them reported (percentiles are
      never averaged, so a spike stays visible), requests/s and failures/s their mean.
    </p>`;
}

/** Chart one endpoint (its URL is `?endpoint=GET%20/items`): its percentiles are cumulative, as in the table. */
function EndpointPicker({ run, endpoint, endpoints }) {
  const base = `/runs/${encodeURIComponent(run.id)}`;
  const keys = endpoints.map((row) => `${row.method} ${row.name}`);
  return html`
    <nav class="chips" aria-label="Chart an endpoint">
      <a href=${base} aria-current=${endpoint ? undefined : 'page'}>All requests</a>
      ${keys.map((key) => html`<a href=${`${base}?endpoint=${encodeURIComponent(key)}`} aria-current=${key === endpoint ? 'page' : undefined}>${key}</a>`)}
    </nav>`;
}
