// The test's baseline run (PUT /v1/load-tests/{id}/baseline): what regression criteria and
// comparisons measure against. Picked from the test's Finished runs; cleared with null (the API
// refuses while regression criteria need it, and says so).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { listRuns, setBaseline } from '../api.js';
import { formatDateTime, shortId } from '../format.js';
import { useApi } from '../hooks.js';
import { ErrorMessage, Notice } from './messages.js';

const CHOICES = 50;

export function BaselinePicker({ test, onSaved }) {
  const finished = useApi(() => listRuns(test.id, { status: 'Finished', limit: CHOICES }), [test.id]);
  const [outcome, setOutcome] = useState({ error: null, message: null });
  async function put(runId, message) {
    setOutcome({ error: null, message: null });
    try {
      onSaved(await setBaseline(test.id, runId));
      setOutcome({ error: null, message });
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  function submit(event) {
    event.preventDefault();
    const runId = event.currentTarget.elements.baselineRunId.value;
    if (runId) put(runId, `Run ${shortId(runId)} is the baseline.`);
  }
  const runs = finished.data?.items ?? [];
  const current = test.baselineRunId;
  return html`
    <form onSubmit=${submit} data-testid="baseline-form" aria-labelledby="baseline-heading">
      <h3 id="baseline-heading">Baseline run</h3>
      <p data-testid="baseline-current">${current
        ? html`The baseline is <a href=${`/runs/${encodeURIComponent(current)}`}>run ${shortId(current)}</a>.
            ${runs[0] && runs[0].id !== current ? html` <a href=${`/runs/compare?base=${encodeURIComponent(current)}&target=${encodeURIComponent(runs[0].id)}`}>Compare the latest Finished run with it</a>.` : null}`
        : 'No baseline: regression criteria and comparisons by default need one.'}</p>
      <${ErrorMessage} error=${finished.error} title="Could not list the Finished runs" />
      ${!may('PUT /v1/load-tests/{testId}/baseline') ? null : runs.length ? html`
        <div class="inline-form">
          <label>Finished run
            <select name="baselineRunId">
              ${runs.map((run) => html`<option value=${run.id} selected=${run.id === (current ?? runs[0].id)}>${formatDateTime(run.createdAt)} · revision ${run.revisionNumber} · ${run.result}${run.id === current ? ' (baseline)' : ''}</option>`)}
            </select></label>
          <button type="submit" class="secondary" data-testid="set-baseline">Set as baseline</button>
          ${current ? html`<button type="button" class="danger" onClick=${() => put(null, 'The test has no baseline now.')}>Clear the baseline</button>` : null}
        </div>` : finished.data ? html`<p class="muted">No Finished run yet to choose from.</p>` : null}
      <${ErrorMessage} error=${outcome.error} title="Baseline not changed" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
    </form>`;
}
