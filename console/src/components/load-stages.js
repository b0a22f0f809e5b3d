// The stages of a load profile as editable rows (duration, users, spawn rate: the API's LoadStage),
// named by the API's own paths (`defaultLoadProfile.stages.1.users`) so its 422s land at their field.
import { html } from '../../vendor/preact.js';
import { formatSeconds } from '../format.js';
import { FieldError, invalidProps } from './field-error.js';

let rowKeys = 0;

/** A stage as a row of the form (numbers as the text of their inputs). */
export function toStageRow(stage = {}) {
  const text = (value) => (value == null ? '' : String(value));
  return { key: ++rowKeys, durationSeconds: text(stage.durationSeconds), users: text(stage.users), spawnRate: text(stage.spawnRate) };
}

/** A row as the API takes it: an empty field is left out, so the API says what is missing. */
export function toStage(row) {
  const number = (value) => (value.trim() === '' ? undefined : Number(value));
  const stage = { durationSeconds: number(row.durationSeconds), users: number(row.users) };
  if (row.spawnRate.trim() !== '') stage.spawnRate = number(row.spawnRate);
  return stage;
}

/** "3 stages, 7 min in all, at most 30 users": what the rows as typed add up to (the API checks them). */
export function describeStages(stages) {
  const total = stages.reduce((sum, stage) => sum + (Number(stage.durationSeconds) || 0), 0);
  const peak = Math.max(0, ...stages.map((stage) => Number(stage.users) || 0));
  return `${stages.length} stage${stages.length === 1 ? '' : 's'}, ${formatSeconds(total)} in all, at most ${peak} users`;
}

const COLUMNS = [
  { name: 'durationSeconds', label: 'Duration (s)', min: 1, step: 1 },
  { name: 'users', label: 'Users', min: 0, step: 1 },
  { name: 'spawnRate', label: 'Spawn rate (users/s, optional)', min: 0, step: 'any', placeholder: 'about a second' },
];

/** `form`: the id prefix of the error messages; `onChange(rows)` gets the rows after each edit. */
export function LoadStages({ rows, onChange, errors, form, editable, field = 'defaultLoadProfile' }) {
  const edit = (key, patch) => onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  return html`
    <div data-testid="load-stages">
      <${FieldError} errors=${errors} form=${form} field=${field} />
      <${FieldError} errors=${errors} form=${form} field=${`${field}.stages`} />
      ${rows.map((row, i) => html`
        <fieldset key=${row.key} class="grid-form criterion" data-testid="stage-row">
          <legend>Stage ${i + 1}</legend>
          ${COLUMNS.map((column) => {
            const path = `${field}.stages.${i}.${column.name}`;
            return html`
              <label>${column.label}
                <input name=${path} type="number" min=${column.min} step=${column.step} placeholder=${column.placeholder}
                  value=${row[column.name]} disabled=${!editable} onInput=${(event) => edit(row.key, { [column.name]: event.currentTarget.value })}
                  ...${invalidProps(errors, form, path)} />
                <${FieldError} errors=${errors} form=${form} field=${path} />
              </label>`;
          })}
          ${editable ? html`<span><button type="button" class="danger" onClick=${() => onChange(rows.filter((r) => r.key !== row.key))}>
            Remove stage ${i + 1}</button></span>` : null}
        </fieldset>`)}
      ${editable ? html`<div class="buttons"><button type="button" class="secondary" data-testid="add-stage"
        onClick=${() => onChange([...rows, toStageRow({ durationSeconds: 60, users: rows.length ? rows[rows.length - 1].users : 10 })])}>
        Add a stage</button></div>` : null}
    </div>`;
}
