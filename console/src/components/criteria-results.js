// A run's pass/fail verdict as the API decided it at Finalize: each criterion, the run's figure,
// the baseline's, the limit, and passed or not (in words). Also why a run stopped itself.
import { html } from '../../vendor/preact.js';
import { METRIC_LABELS, formatDateTime, formatFigure, formatNumber, formatPercent, formatSignedPercent } from '../format.js';

/** "p95 of GET /checkout < 300 ms" or "p95 of all requests at most 10 % worse than the baseline". */
export function describeCriterion(criterion) {
  const what = `${METRIC_LABELS[criterion.metric] ?? criterion.metric} of ${criterion.endpoint ?? 'all requests'}`;
  if (criterion.maxRegressionPercent != null) return `${what} at most ${formatNumber(criterion.maxRegressionPercent, 2)} % worse than the baseline`;
  return `${what} ${criterion.operator} ${formatFigure(criterion.metric, criterion.threshold)}`;
}

export function CriteriaResults({ results, caption = 'Criteria results', testId = 'criteria-results' }) {
  if (!results?.length) return html`<p class="muted" data-testid=${testId}>No criteria: the result is not evaluated.</p>`;
  return html`
    <table class="listing numeric" data-testid=${testId}>
      <caption class="visually-hidden">${caption}</caption>
      <thead><tr>
        <th scope="col">Criterion</th><th scope="col">Actual</th><th scope="col">Baseline</th><th scope="col">Limit</th>
        <th scope="col">Change vs baseline</th><th scope="col">Outcome</th>
      </tr></thead>
      <tbody>${results.map((result, i) => html`
        <tr key=${i} data-testid="criterion-result" data-passed=${String(result.passed)}>
          <th scope="row">${describeCriterion(result.criterion)}<br /><span class="muted small">${result.message}</span></th>
          <td>${formatFigure(result.criterion.metric, result.actual)}</td>
          <td>${formatFigure(result.criterion.metric, result.baseline)}</td>
          <td>${formatFigure(result.criterion.metric, result.limit)}</td>
          <td>${formatSignedPercent(result.regressionPercent)}</td>
          <td><span class=${`badge result-${result.passed ? 'passed' : 'failed'}`}>${result.passed ? 'Passed' : 'Failed'}</span></td>
        </tr>`)}
      </tbody>
    </table>`;
}

/** Auto-stop fired: the API's own sentence, then its figures. */
export function StopReason({ reason }) {
  if (!reason) return null;
  return html`
    <div class="warning-box" data-testid="stop-reason">
      <strong>Stopped by auto-stop: </strong>${reason.message}
      <p class="small">Failure ratio ${formatPercent(reason.observedFailRatio)} over the last ${reason.windowSeconds} s
        (${reason.failures} of ${reason.requests} requests failed), at or above ${formatPercent(reason.threshold)};
        fired at ${formatDateTime(reason.at)}.</p>
    </div>`;
}
