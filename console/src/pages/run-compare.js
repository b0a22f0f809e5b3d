// /runs/compare?base=&target= — two runs of a test as GET /v1/runs/compare answers them: each side
// (revision, result, criteria results, stop reason), what changed most, the deltas overall and per
// endpoint, endpoints on one side only, the script diff when the revisions differ; and both runs'
// series (GET /v1/runs/{id}/metrics) overlaid by time since each run's start. Without `base`, the
// API compares with the test's baseline run. Every figure is the API's; nothing is computed here.
import { html, useMemo } from '../../vendor/preact.js';
import uPlot from '../../vendor/uplot.js';
import { compareRuns, getRunMetrics, getTest } from '../api.js';
import { METRIC_LABELS, formatDateTime, formatFigure, formatSeconds, formatSignedPercent, shortId } from '../format.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { CriteriaResults, StopReason } from '../components/criteria-results.js';
import { ReportLink } from '../components/report-link.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { ResultBadge, StatusBadge } from '../components/status.js';
import { TimeChart } from '../components/time-chart.js';
import { FileChange } from '../components/unified-diff.js';

const FIGURES = ['requests', 'failures', 'failRatio', 'rps', 'avgMs', 'p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'maxMs'];
const ENDPOINT_FIGURES = ['requests', 'failRatio', 'rps', 'p50Ms', 'p95Ms', 'p99Ms'];

export default function RunComparePage({ query }) {
  const { base, target } = query;
  const comparison = useApi(() => (target ? compareRuns(base, target) : Promise.resolve(null)), [base, target]);
  const answer = comparison.data;
  return html`
    <${PageHeading} title="Compare runs" />
    <${PickRuns} base=${base} target=${target} />
    <${ErrorMessage} error=${comparison.error} title="Could not compare the runs" />
    ${!target ? html`<p>Pick two runs on a test's <strong>Runs</strong> page, or name them above (without a base run, the test's baseline is the base).</p>`
      : comparison.loading && !answer ? html`<${Loading} what="Comparing the runs" />`
      : answer ? html`<${Comparison} answer=${answer} />` : null}`;
}

function Comparison({ answer }) {
  const test = useApi(() => getTest(answer.target.loadTestId), [answer.target.loadTestId]);
  const testPath = `/tests/${encodeURIComponent(answer.target.loadTestId)}`;
  return html`
    <div data-testid="compare-view" data-same-revision=${String(answer.sameRevision)}>
      <p class="breadcrumb"><a href="/tests">Tests</a> / <a href=${testPath}>${test.data?.name ?? answer.target.loadTestId}</a>
        ${' / '}<a href=${`${testPath}/runs`}>runs</a>${' · '}<${ReportLink} path="/v1/runs/compare/report"
        query=${{ base: answer.base.id, target: answer.target.id }}>The comparison as a page<//></p>
      <${Sides} answer=${answer} />
      ${answer.highlights?.length ? html`
        <section aria-labelledby="highlights-heading">
          <h2 id="highlights-heading">What changed most</h2>
          <ul data-testid="compare-highlights">${answer.highlights.map((h) => html`<li class=${h.delta?.worse ? 'worse' : ''}>${h.message}</li>`)}</ul>
        </section>` : null}
      <${OverallDeltas} overall=${answer.overall} />
      <${EndpointDeltas} answer=${answer} />
      <${Overlay} base=${answer.base} target=${answer.target} />
      <${CriteriaSides} answer=${answer} />
      <${ScriptChanges} answer=${answer} testPath=${testPath} />
    </div>`;
}

function Sides({ answer }) {
  const side = (run, name) => html`
    <section class="card side" aria-label=${`${name} run`} data-testid=${`compare-${name.toLowerCase()}`}>
      <h2>${name}${name === 'Base' && answer.baseIsBaseline ? ' (the test\u2019s baseline)' : ''}</h2>
      <p><a href=${`/runs/${encodeURIComponent(run.id)}`}>Run ${shortId(run.id)}</a>, ${formatDateTime(run.startedAt)}</p>
      <p><${StatusBadge} status=${run.status} /> <${ResultBadge} result=${run.result} /></p>
      <dl class="facts">
        <dt>Revision</dt><dd><a href=${`/tests/${encodeURIComponent(run.loadTestId)}?revision=${run.revisionNumber}`}>Revision ${run.revisionNumber}</a></dd>
        <dt>Load</dt><dd>${run.targetUsers} users, ${formatSeconds(run.durationSeconds)}, ${run.workers} worker${run.workers === 1 ? '' : 's'}</dd>
      </dl>
      <${StopReason} reason=${run.stopReason} />
    </section>`;
  return html`
    <div class="columns">${side(answer.base, 'Base')}${side(answer.target, 'Target')}</div>
    <p>${answer.sameRevision ? 'Both runs used the same revision: any difference is not the script\u2019s.'
      : html`The runs used different revisions (${answer.base.revisionNumber} and ${answer.target.revisionNumber}): the script diff is at the end.`}</p>`;
}

/** A Delta as words: "12 ms → 15 ms, +3 ms (+25 %), worse". `worse` is the API's judgement. */
function DeltaCell({ metric, delta }) {
  if (!delta) return html`<td>—</td>`;
  const verdict = delta.worse === true ? 'worse' : delta.worse === false && delta.absolute ? 'better' : '';
  return html`
    <td class=${verdict} data-metric=${metric} data-worse=${String(delta.worse)}>
      ${formatFigure(metric, delta.base)} → ${formatFigure(metric, delta.target)}
      <br /><span class="small">${formatSignedPercent(delta.percent)}${verdict ? `, ${verdict}` : ''}</span>
    </td>`;
}

function OverallDeltas({ overall }) {
  return html`
    <section aria-labelledby="overall-heading">
      <h2 id="overall-heading">All requests</h2>
      <table class="listing numeric" data-testid="compare-overall">
        <thead><tr><th scope="col">Figure</th><th scope="col">Base</th><th scope="col">Target</th><th scope="col">Change</th><th scope="col">Change (%)</th><th scope="col">Verdict</th></tr></thead>
        <tbody>${FIGURES.map((metric) => {
          const delta = overall[metric];
          const verdict = delta.worse === true ? 'worse' : delta.worse === false && delta.absolute ? 'better' : '—';
          return html`
            <tr data-metric=${metric}>
              <th scope="row">${METRIC_LABELS[metric] ?? metric}</th>
              <td>${formatFigure(metric, delta.base)}</td><td>${formatFigure(metric, delta.target)}</td>
              <td>${delta.absolute == null ? '—' : `${delta.absolute > 0 ? '+' : ''}${formatFigure(metric, delta.absolute)}`}</td>
              <td>${formatSignedPercent(delta.percent)}</td>
              <td class=${verdict === '—' ? '' : verdict}>${verdict}</td>
            </tr>`;
        })}</tbody>
      </table>
    </section>`;
}

function EndpointDeltas({ answer }) {
  return html`
    <section aria-labelledby="endpoint-deltas-heading">
      <h2 id="endpoint-deltas-heading">Per endpoint</h2>
      ${answer.endpoints.length ? html`
        <table class="listing numeric" data-testid="compare-endpoints">
          <caption class="visually-hidden">Base → target per endpoint, biggest p95 regression first</caption>
          <thead><tr><th scope="col">Endpoint</th>${ENDPOINT_FIGURES.map((m) => html`<th scope="col">${METRIC_LABELS[m]}</th>`)}</tr></thead>
          <tbody>${answer.endpoints.map((row) => html`
            <tr data-endpoint=${row.endpoint}><th scope="row">${row.endpoint}</th>
              ${ENDPOINT_FIGURES.map((metric) => html`<${DeltaCell} metric=${metric} delta=${row.deltas[metric]} />`)}</tr>`)}
          </tbody>
        </table>` : html`<p class="muted">No endpoint was requested in both runs.</p>`}
      <${OneSided} title="Only in the base run" rows=${answer.onlyInBase} testId="only-in-base" />
      <${OneSided} title="Only in the target run" rows=${answer.onlyInTarget} testId="only-in-target" />
    </section>`;
}

function OneSided({ title, rows, testId }) {
  if (!rows?.length) return null;
  return html`
    <h3>${title}</h3>
    <table class="listing numeric" data-testid=${testId}>
      <thead><tr><th scope="col">Endpoint</th><th scope="col">Requests</th><th scope="col">Failures</th><th scope="col">p95</th><th scope="col">Requests/s</th></tr></thead>
      <tbody>${rows.map((row) => html`
        <tr data-endpoint=${row.endpoint}><th scope="row">${row.endpoint}</th><td>${row.stats.requests}</td><td>${row.stats.failures}</td>
          <td>${formatFigure('p95Ms', row.stats.p95Ms)}</td><td>${formatFigure('rps', row.stats.rps)}</td></tr>`)}
      </tbody>
    </table>`;
}

const OVERLAYS = [
  { testId: 'compare-chart-rps', title: 'Requests per second', unit: '/s', figure: 'rps' },
  { testId: 'compare-chart-p95', title: 'p95', unit: 'ms', figure: 'p95Ms' },
  { testId: 'compare-chart-users', title: 'Users', unit: '', figure: 'users' },
];

/** Both runs' series on one x axis: seconds since each run's start (the API's `origin`). */
function Overlay({ base, target }) {
  const series = useApi(() => Promise.all([getRunMetrics(base.id), getRunMetrics(target.id)]), [base.id, target.id]);
  const charts = useMemo(() => {
    if (!series.data) return null;
    const [a, b] = series.data;
    const since = (page) => page.time.map((t) => (t - page.origin) / 1000);
    // uPlot.join aligns the two x columns (a value missing on one side is a gap it spans): layout only.
    return OVERLAYS.map((chart) => uPlot.join([[since(a), a[chart.figure]], [since(b), b[chart.figure]]]));
  }, [series.data]);
  const lines = [{ label: `Base (r${base.revisionNumber})`, color: '#6b7280' }, { label: `Target (r${target.revisionNumber})`, color: '#1d4ed8' }];
  return html`
    <section aria-labelledby="overlay-heading">
      <h2 id="overlay-heading">Both runs over time</h2>
      <${ErrorMessage} error=${series.error} title="Could not load the series" />
      ${charts ? html`
        <div class="charts">${OVERLAYS.map((chart, i) => html`
          <${TimeChart} key=${chart.testId} testId=${chart.testId} title=${chart.title} unit=${chart.unit} series=${lines}
            data=${charts[i]} options=${{ x: { time: false, label: 'seconds since the run started' }, spanGaps: true }} />`)}
        </div>
        <p class="note">Percentiles over time: ${series.data[0].percentiles}; a point covering several samples shows the highest of them.</p>`
        : !series.error && html`<${Loading} what="Loading both runs' series" />`}
    </section>`;
}

function CriteriaSides({ answer }) {
  return html`
    <section aria-labelledby="criteria-sides-heading">
      <h2 id="criteria-sides-heading">Criteria results</h2>
      <h3>Base: <${ResultBadge} result=${answer.base.result} /></h3>
      <${CriteriaResults} results=${answer.base.criteriaResults} caption="Base run's criteria" testId="base-criteria" />
      <h3>Target: <${ResultBadge} result=${answer.target.result} /></h3>
      <${CriteriaResults} results=${answer.target.criteriaResults} caption="Target run's criteria" testId="target-criteria" />
    </section>`;
}

function ScriptChanges({ answer, testPath }) {
  const diff = answer.scriptDiff;
  if (answer.sameRevision || !diff) return null;
  const files = diff.files?.length ? diff.files : null;
  return html`
    <section aria-labelledby="script-diff-heading" data-testid="compare-diff">
      <h2 id="script-diff-heading">Script: revision ${diff.from.revisionNumber} → ${diff.to.revisionNumber}</h2>
      <p><span class="added">+${diff.addedLines}</span> <span class="removed">−${diff.removedLines}</span> lines.
        ${' '}<a href=${`${testPath}/diff?from=${diff.from.revisionNumber}&to=${diff.to.revisionNumber}`}>Side by side</a></p>
      ${files ? files.map((file) => html`<${FileChange} key=${file.path} file=${file} diff=${diff} testId=${diff.loadTestId} />`)
        : html`<${FileChange} diff=${diff} file=${{ path: diff.to.entryPath ?? 'locustfile.py', change: 'modified', binary: false,
            unifiedDiff: diff.unifiedDiff, addedLines: diff.addedLines, removedLines: diff.removedLines }} />`}
    </section>`;
}

function PickRuns({ base, target }) {
  function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const params = new URLSearchParams();
    if (form.base.value.trim()) params.set('base', form.base.value.trim());
    params.set('target', form.target.value.trim());
    navigate(`/runs/compare?${params}`);
  }
  return html`
    <form class="inline-form" onSubmit=${submit} aria-label="Runs to compare">
      <label>Base run id <input name="base" defaultValue=${base ?? ''} placeholder="the test's baseline" autocomplete="off" /></label>
      <label>Target run id <input name="target" defaultValue=${target ?? ''} required autocomplete="off" /></label>
      <button type="submit" class="secondary">Compare</button>
    </form>`;
}
