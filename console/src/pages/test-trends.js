// /tests/{id}/trends — p95, p99, requests/s and failure ratio of every Finished run over time, from
// GET /v1/load-tests/{id}/trends (oldest first), each point labelled by its revision number and a
// dashed line where the revision changed; the same rows as a table (also what screen readers use).
// `?limit=N`: the latest N runs (the API's default 100, at most 1,000).
import { html, useMemo } from '../../vendor/preact.js';
import { getTest, getTrends } from '../api.js';
import { formatDateTime, formatMs, formatNumber, formatPercent, formatSeconds, shortId } from '../format.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { ResultBadge } from '../components/status.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';
import { TimeChart } from '../components/time-chart.js';

const LABEL_EVERY_POINT_UP_TO = 40; // beyond, only the points where the revision changes are labelled

export default function TestTrendsPage({ params, query }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const trends = useApi(() => getTrends(testId, query.limit), [testId, query.limit]);
  const items = trends.data?.items ?? [];
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${test.data ? `${test.data.name}: trends` : 'Trends'} />
    <${TestNav} testId=${testId} current="trends">
    <${LimitForm} testId=${testId} limit=${query.limit} />
    <${ErrorMessage} error=${trends.error} title="Could not load the trends" />
    ${trends.loading && !trends.data ? html`<${Loading} what="Loading the trends" />`
      : trends.data && !items.length ? html`<p data-testid="trend-chart" data-points="0">No Finished run yet: trends show one point per Finished run.</p>`
      : trends.data ? html`
        <${TrendCharts} items=${items} baselineRunId=${trends.data.baselineRunId} />
        <${TrendTable} testId=${testId} items=${items} baselineRunId=${trends.data.baselineRunId} />` : null}
    </${TestNav}>`;
}

function TrendCharts({ items, baselineRunId }) {
  const { columns, labels, markers } = useMemo(() => chartData(items, baselineRunId), [items, baselineRunId]);
  const options = { points: true, labels, markers, spanGaps: true, scale: 'zero', padX: true };
  return html`
    <div class="charts" data-testid="trend-chart" data-points=${items.length}
      data-revisions=${items.map((item) => item.revisionNumber).join(',')}>
      <${TimeChart} testId="trend-latency" title="Response time per run (p95, p99)" unit="ms" options=${options}
        series=${[{ label: 'p95', color: '#c2410c' }, { label: 'p99', color: '#7e22ce' }]}
        data=${[columns.time, columns.p95, columns.p99]} describe=${() => describeTrend(items)} />
      <${TimeChart} testId="trend-rps" title="Requests per second per run" unit="/s" options=${options}
        series=${[{ label: 'Requests/s', color: '#1d4ed8' }]} data=${[columns.time, columns.rps]} describe=${() => describeTrend(items)} />
      <${TimeChart} testId="trend-failures" title="Failure ratio per run" unit="%" options=${options}
        series=${[{ label: 'Failures', color: '#b91c1c' }]} data=${[columns.time, columns.failPercent]} describe=${() => describeTrend(items)} />
    </div>
    <p class="note">Each point is one Finished run, at its start, labelled with the revision it ran (r1, r2, …); a dashed line
      marks where the revision changed${baselineRunId ? ' and the baseline run' : ''}. Figures are the API's, per run (Locust's final, whole-run values).</p>`;
}

/** The API's rows as chart columns (x: the run's start, epoch seconds); failure ratio shown in %. */
function chartData(items, baselineRunId) {
  const columns = { time: [], p95: [], p99: [], rps: [], failPercent: [] };
  const labels = [];
  const markers = [];
  items.forEach((item, i) => {
    const x = (item.startedAt ?? item.createdAt) / 1000;
    columns.time.push(x);
    columns.p95.push(item.p95Ms);
    columns.p99.push(item.p99Ms);
    columns.rps.push(item.rps);
    columns.failPercent.push(item.failRatio == null ? null : item.failRatio * 100);
    const changed = i > 0 && item.revisionNumber !== items[i - 1].revisionNumber;
    labels.push(items.length <= LABEL_EVERY_POINT_UP_TO || i === 0 || changed ? `r${item.revisionNumber}` : '');
    if (changed) markers.push({ x, label: `revision ${item.revisionNumber}` });
    if (item.runId === baselineRunId) markers.push({ x, label: 'baseline' });
  });
  return { columns, labels, markers };
}

function describeTrend(items) {
  const last = items[items.length - 1];
  return `${items.length} runs. Latest, revision ${last.revisionNumber}: p95 ${formatMs(last.p95Ms)}, p99 ${formatMs(last.p99Ms)}, ` +
    `${formatNumber(last.rps)} requests/s, failure ratio ${formatPercent(last.failRatio)}. The table below lists every run.`;
}

function TrendTable({ testId, items, baselineRunId }) {
  const base = `/tests/${encodeURIComponent(testId)}`;
  const newestFirst = items.map((item, i) => ({ item, previous: items[i - 1] })).reverse();
  return html`
    <table class="listing numeric" data-testid="trend-table">
      <caption>Finished runs, newest first</caption>
      <thead><tr>
        <th scope="col">Run</th><th scope="col">Revision</th><th scope="col">Users</th><th scope="col">Duration</th>
        <th scope="col">Requests</th><th scope="col">Requests/s</th><th scope="col">Failure ratio</th>
        <th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th><th scope="col">Result</th><th scope="col">Compare</th>
      </tr></thead>
      <tbody>${newestFirst.map(({ item, previous }) => html`
        <tr key=${item.runId} data-testid="trend-row" data-revision=${item.revisionNumber}>
          <th scope="row"><a href=${`/runs/${encodeURIComponent(item.runId)}`}>${formatDateTime(item.startedAt ?? item.createdAt)}</a>
            ${item.runId === baselineRunId ? html` <span class="badge">baseline</span>` : null}</th>
          <td><a href=${`${base}?revision=${item.revisionNumber}`}>r${item.revisionNumber}</a></td>
          <td>${item.targetUsers}</td>
          <td>${formatSeconds(item.durationSeconds)}</td>
          <td>${item.totalRequests ?? '—'}</td>
          <td>${formatNumber(item.rps, 2)}</td>
          <td>${formatPercent(item.failRatio)}</td>
          <td>${formatMs(item.p50Ms)}</td><td>${formatMs(item.p95Ms)}</td><td>${formatMs(item.p99Ms)}</td>
          <td><${ResultBadge} result=${item.result} />${item.stoppedEarly ? html` <span class="badge">auto-stopped</span>` : null}</td>
          <td>${previous ? html`<a href=${`/runs/compare?base=${encodeURIComponent(previous.runId)}&target=${encodeURIComponent(item.runId)}`}
>with the previous<span class="visually-hidden"> run (compare run ${shortId(item.runId)})</span></a>` : '—'}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

function LimitForm({ testId, limit }) {
  function submit(event) {
    event.preventDefault();
    const value = event.currentTarget.elements.limit.value;
    navigate(`/tests/${encodeURIComponent(testId)}/trends${value ? `?limit=${encodeURIComponent(value)}` : ''}`);
  }
  return html`
    <form class="inline-form" onSubmit=${submit} aria-label="How many runs">
      <label class="short">Latest runs shown <input name="limit" type="number" min="1" max="1000" defaultValue=${limit ?? ''} placeholder="100" /></label>
      <button type="submit" class="secondary">Show</button>
    </form>`;
}
