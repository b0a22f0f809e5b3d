// A test's gates, saved with PATCH /v1/load-tests/{id}: pass/fail criteria (a fixed threshold, or a
// maximum regression against the baseline run, for all requests or one "METHOD name" endpoint) and
// auto-stop. The API judges everything: its 422s are shown at the field they name.
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { updateTest } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { METRIC_LABELS } from '../format.js';
import { FieldError, invalidProps } from './field-error.js';
import { ErrorMessage, Notice } from './messages.js';

// Gates are saved with PATCH …/{testId}: a caller who may not sees them disabled, without buttons.
const mayEdit = () => may('PATCH /v1/load-tests/{testId}');
const METRICS = ['p50Ms', 'p90Ms', 'p95Ms', 'p99Ms', 'avgMs', 'maxMs', 'failRatio', 'rps'];
const OPERATORS = ['<', '<=', '>', '>='];
const UNITS = { failRatio: 'a ratio, 0 to 1', rps: 'requests/s' };
// Domain 422s that name criteria by index rather than by location.
const BY_CODE = {
  BaselineRequired: (details) => (details.criteria || []).map((i) => `criteria.${i}.maxRegressionPercent`),
};

let rowKeys = 0;
function toRow(criterion) {
  return {
    key: ++rowKeys, metric: criterion.metric, endpoint: criterion.endpoint ?? '',
    kind: criterion.maxRegressionPercent != null ? 'regression' : 'threshold', operator: criterion.operator ?? '<',
    threshold: criterion.threshold ?? '', maxRegressionPercent: criterion.maxRegressionPercent ?? '',
  };
}

/** A row as the API takes it: empty fields left out, so the API says what is missing. */
function toCriterion(row) {
  const number = (value) => (value === '' ? undefined : Number(value));
  const criterion = { metric: row.metric, ...(row.endpoint.trim() ? { endpoint: row.endpoint.trim() } : {}) };
  if (row.kind === 'regression') return { ...criterion, maxRegressionPercent: number(row.maxRegressionPercent) };
  return { ...criterion, operator: row.operator, threshold: number(row.threshold) };
}

export function CriteriaEditor({ test, onSaved }) {
  const [rows, setRows] = useState(() => (test.criteria || []).map(toRow));
  const [outcome, setOutcome] = useState({ error: null, message: null });
  const edit = (key, patch) => setRows((now) => now.map((row) => (row.key === key ? { ...row, ...patch } : row)));

  async function submit(event) {
    event.preventDefault();
    setOutcome({ error: null, message: null });
    try {
      const updated = await updateTest(test.id, { criteria: rows.map(toCriterion) });
      onSaved(updated);
      setRows(updated.criteria.map(toRow));
      setOutcome({ error: null, message: updated.criteria.length ? 'Criteria saved: every new run is judged by them.' : 'No criteria: runs are not evaluated.' });
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }

  const errors = fieldErrors(outcome.error, BY_CODE);
  const editable = mayEdit();
  return html`
    <form onSubmit=${submit} data-testid="criteria-form" aria-labelledby="criteria-heading" noValidate>
      <h3 id="criteria-heading">Pass/fail criteria</h3>
      <p class="muted">A run passes when every criterion holds on Locust's final figures. A regression criterion compares with the baseline run.</p>
      ${rows.length ? null : html`<p>No criteria: runs end with the result "Not evaluated".</p>`}
      <fieldset class="bare" disabled=${!editable}>
        ${rows.map((row, i) => html`<${CriterionRow} key=${row.key} row=${row} index=${i} errors=${errors} editable=${editable}
          onEdit=${(patch) => edit(row.key, patch)} onRemove=${() => setRows((now) => now.filter((r) => r.key !== row.key))} />`)}
      </fieldset>
      <${ErrorMessage} error=${outcome.error} title="Criteria not saved" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${editable ? html`<div class="buttons">
        <button type="button" class="secondary" onClick=${() => setRows((now) => [...now, toRow({ metric: 'p95Ms', operator: '<', threshold: '' })])}>Add a criterion</button>
        <button type="submit" data-testid="save-criteria">Save criteria</button>
      </div>` : null}
    </form>`;
}

function CriterionRow({ row, index, errors, editable, onEdit, onRemove }) {
  const field = (name) => `criteria.${index}.${name}`;
  const props = (name) => invalidProps(errors, 'criteria', field(name));
  const value = (name) => (event) => onEdit({ [name]: event.currentTarget.value });
  return html`
    <fieldset class="criterion grid-form" data-testid="criterion-row">
      <legend>Criterion ${index + 1}</legend>
      <${FieldError} errors=${errors} form="criteria" field=${`criteria.${index}`} />
      <label>Metric
        <select name=${field('metric')} value=${row.metric} onChange=${value('metric')} ...${props('metric')}>
          ${METRICS.map((m) => html`<option value=${m}>${METRIC_LABELS[m]} (${m})</option>`)}
        </select>
        <${FieldError} errors=${errors} form="criteria" field=${field('metric')} /></label>
      <label>Endpoint (optional)
        <input name=${field('endpoint')} value=${row.endpoint} onInput=${value('endpoint')} placeholder="all requests, or e.g. GET /checkout" autocomplete="off" ...${props('endpoint')} />
        <${FieldError} errors=${errors} form="criteria" field=${field('endpoint')} /></label>
      <label>Kind
        <select name=${field('kind')} value=${row.kind} onChange=${value('kind')}>
          <option value="threshold">a fixed threshold</option>
          <option value="regression">at most N % worse than the baseline</option>
        </select></label>
      ${row.kind === 'threshold' ? html`
        <label>Operator
          <select name=${field('operator')} value=${row.operator} onChange=${value('operator')} ...${props('operator')}>
            ${OPERATORS.map((op) => html`<option value=${op}>${op}</option>`)}
          </select>
          <${FieldError} errors=${errors} form="criteria" field=${field('operator')} /></label>
        <label>Threshold (${UNITS[row.metric] ?? 'ms'})
          <input name=${field('threshold')} type="number" step="any" value=${row.threshold} onInput=${value('threshold')} ...${props('threshold')} />
          <${FieldError} errors=${errors} form="criteria" field=${field('threshold')} /></label>` : html`
        <label>Maximum regression (%)
          <input name=${field('maxRegressionPercent')} type="number" step="any" value=${row.maxRegressionPercent} onInput=${value('maxRegressionPercent')} ...${props('maxRegressionPercent')} />
          <${FieldError} errors=${errors} form="criteria" field=${field('maxRegressionPercent')} /></label>`}
      ${editable ? html`<div><button type="button" class="danger" onClick=${onRemove}>Remove criterion ${index + 1}</button></div>` : null}
    </fieldset>`;
}

/** Auto-stop: the test's own settings, or the API's default (null). */
export function AutoStopEditor({ test, onSaved }) {
  const current = test.autoStop;
  const [outcome, setOutcome] = useState({ error: null, message: null });
  async function save(autoStop, message) {
    setOutcome({ error: null, message: null });
    try {
      onSaved(await updateTest(test.id, { autoStop }));
      setOutcome({ error: null, message });
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const number = (input) => (input.value === '' ? undefined : Number(input.value));
    save({ enabled: form.enabled.checked, failRatio: number(form.failRatio), windowSeconds: number(form.windowSeconds) }, 'Auto-stop saved.');
  }
  const errors = fieldErrors(outcome.error);
  const props = (name) => invalidProps(errors, 'autostop', `autoStop.${name}`);
  const editable = mayEdit();
  return html`
    <form onSubmit=${submit} data-testid="auto-stop-form" aria-labelledby="auto-stop-heading" noValidate key=${JSON.stringify(current)}>
      <h3 id="auto-stop-heading">Auto-stop</h3>
      <p class="muted">${current ? 'This test\u2019s own settings.' : 'The default: stop a run whose failure ratio reaches 90 % over 60 s.'} A run stopped this way ends Finished with the result Failed.</p>
      <fieldset class="grid-form bare" disabled=${!editable}>
        <label class="checkbox"><input type="checkbox" name="enabled" defaultChecked=${current?.enabled ?? true} /> Stop runs that fail too much</label>
        <label>Failure ratio (0 to 1)
          <input name="failRatio" type="number" step="any" defaultValue=${current?.failRatio ?? 0.9} ...${props('failRatio')} />
          <${FieldError} errors=${errors} form="autostop" field="autoStop.failRatio" /></label>
        <label>Window (seconds)
          <input name="windowSeconds" type="number" step="1" defaultValue=${current?.windowSeconds ?? 60} ...${props('windowSeconds')} />
          <${FieldError} errors=${errors} form="autostop" field="autoStop.windowSeconds" /></label>
      </fieldset>
      <${ErrorMessage} error=${outcome.error} title="Auto-stop not saved" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${editable ? html`<div class="buttons">
        <button type="submit">Save auto-stop</button>
        ${current ? html`<button type="button" class="secondary" onClick=${() => save(null, 'Auto-stop is back to the default.')}>Use the default</button>` : null}
      </div>` : null}
    </form>`;
}
