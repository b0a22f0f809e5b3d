// A test's schedules (EventBridge Scheduler): cron (5 fields, read in a time zone) or rate, an
// optional window, enabled or not; what each occurrence did and the next ones (the API computes
// them). Create, edit, enable/disable, delete.
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { createSchedule, deleteSchedule, listSchedules, updateSchedule } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatDateTime, formatSeconds, shortId } from '../format.js';
import { useActions, useApi, useFormPanel } from '../hooks.js';
import { FieldError, invalidProps } from './field-error.js';
import { ErrorMessage, Loading, Notice } from './messages.js';
import { RunSettingsFields, describeRunSettings, readRunSettings } from './run-settings-fields.js';

const RATE_UNITS = ['minutes', 'hours', 'days'];
const ZONES = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];

export function Schedules({ test }) {
  const schedules = useApi(() => listSchedules(test.id), [test.id]);
  const [editing, setEditing] = useState(null);
  const { outcome, setOutcome, act } = useActions(schedules);
  const actions = {
    toggle: (s) => act(() => updateSchedule(test.id, s.id, { enabled: !s.enabled }), `Schedule "${s.name}" ${s.enabled ? 'disabled' : 'enabled'}.`),
    remove: (s) => window.confirm(`Delete the schedule "${s.name}"?`) && act(() => deleteSchedule(test.id, s.id), `Schedule "${s.name}" deleted.`),
    edit: setEditing,
  };
  const items = schedules.data?.items ?? [];
  return html`
    <section aria-labelledby="schedules-heading" data-testid="schedules">
      <h3 id="schedules-heading">Schedules</h3>
      <${ErrorMessage} error=${schedules.error} title="Could not list the schedules" />
      <${ErrorMessage} error=${outcome.error} title="Not changed" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${schedules.loading && !schedules.data ? html`<${Loading} what="Loading schedules" />`
        : items.length ? items.map((s) => html`<${ScheduleCard} key=${s.id} schedule=${s} actions=${actions} />`)
        : html`<p>No schedule.</p>`}
      ${may(editing ? 'PATCH /v1/load-tests/{testId}/schedules/{scheduleId}' : 'POST /v1/load-tests/{testId}/schedules') ? html`
        <${ScheduleForm} key=${editing?.id ?? 'new'} test=${test} schedule=${editing} open=${Boolean(editing) || (schedules.data && !items.length)}
          onDone=${(message) => { setEditing(null); setOutcome({ error: null, message }); schedules.reload(); }}
          onCancel=${() => setEditing(null)} />` : null}
    </section>`;
}

/** An epoch-ms time in the schedule's own time zone (and the zone named), display only. */
function inZone(epochMs, timezone) {
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: timezone, timeZoneName: 'short' }).format(new Date(epochMs));
  } catch {
    return formatDateTime(epochMs);
  }
}

function ScheduleCard({ schedule: s, actions }) {
  return html`
    <article class="card automation-item" data-testid="schedule-row" data-schedule-id=${s.id} data-enabled=${String(s.enabled)} aria-label=${`Schedule ${s.name}`}>
      <h4>${s.name} <span class=${`badge ${s.enabled ? 'status-finished' : ''}`}>${s.enabled ? 'Enabled' : 'Disabled'}</span>
        <span class="muted small"> ${shortId(s.id)}</span></h4>
      ${s.description ? html`<p>${s.description}</p>` : null}
      <dl class="facts">
        <dt>When</dt><dd data-testid="schedule-when">${s.cron ? html`cron <code>${s.cron}</code>` : html`every <code>${s.rate}</code>`} in ${s.timezone}
          <span class="muted"> (Scheduler: <code>${s.expression}</code>; at least ${formatSeconds(s.minIntervalSeconds)} apart)</span></dd>
        <dt>Window</dt><dd>${s.startAt ? `from ${formatDateTime(s.startAt)}` : 'from now'}${s.endAt ? ` until ${formatDateTime(s.endAt)}` : ', no end'}</dd>
        <dt>Run settings</dt><dd>${describeRunSettings(s.runSettings)}</dd>
        <dt>Next</dt><dd><ul class="plain" data-testid="next-occurrences">${s.nextOccurrences.length
          ? s.nextOccurrences.map((at) => html`<li><time datetime=${new Date(at).toISOString()}>${inZone(at, s.timezone)}</time></li>`)
          : html`<li>none${s.enabled ? '' : ' (disabled)'}</li>`}</ul></dd>
        <dt>Updated</dt><dd>${s.updatedBy}, ${formatDateTime(s.updatedAt)}</dd>
      </dl>
      <${Occurrences} occurrences=${s.occurrences} />
      <div class="buttons">
        ${may('PATCH /v1/load-tests/{testId}/schedules/{scheduleId}') ? html`
          <button type="button" class="secondary" onClick=${() => actions.edit(s)}>Edit<span class="visually-hidden"> ${s.name}</span></button>
          <button type="button" class="secondary" data-testid="toggle-schedule" onClick=${() => actions.toggle(s)}>${s.enabled ? 'Disable' : 'Enable'}<span class="visually-hidden"> ${s.name}</span></button>` : null}
        ${may('DELETE /v1/load-tests/{testId}/schedules/{scheduleId}') ? html`
          <button type="button" class="danger" onClick=${() => actions.remove(s)}>Delete<span class="visually-hidden"> ${s.name}</span></button>` : null}
      </div>
    </article>`;
}

function Occurrences({ occurrences }) {
  if (!occurrences?.length) return html`<p class="muted">No occurrence yet.</p>`;
  return html`
    <table class="listing" data-testid="schedule-occurrences">
      <caption>Occurrences, newest first</caption>
      <thead><tr><th scope="col">Scheduled for</th><th scope="col">Handled</th><th scope="col">Outcome</th><th scope="col">Run or reason</th></tr></thead>
      <tbody>${occurrences.map((o) => html`
        <tr data-outcome=${o.outcome}>
          <td>${formatDateTime(o.at)}</td><td>${formatDateTime(o.firedAt)}</td>
          <td><span class=${`badge outcome-${o.outcome}`}>${o.outcome}</span></td>
          <td>${o.runId ? html`<a href=${`/runs/${encodeURIComponent(o.runId)}`}>run ${shortId(o.runId)}</a> ` : null}
            ${o.code ? html`<code>${o.code}</code> ` : null}${o.reason ?? ''}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

// Domain 422s of schedules, each at the field it is about.
const BY_CODE = {
  InvalidCron: () => 'cron', InvalidRate: () => 'rate', InvalidTimezone: () => 'timezone',
  InvalidScheduleWindow: () => 'endAt', InvalidSchedule: () => 'kind', ScheduleTooFrequent: () => 'kind',
};

/** datetime-local (this browser's time) ↔ epoch ms. */
const toLocalInput = (ms) => (ms == null ? '' : new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
const fromLocalInput = (value) => (value ? new Date(value).getTime() : null);

function readSchedule(form, kind) {
  const e = form.elements;
  const body = {
    name: e.name.value.trim(), timezone: e.timezone.value.trim(), enabled: e.enabled.checked,
    startAt: fromLocalInput(e.startAt.value), endAt: fromLocalInput(e.endAt.value), runSettings: readRunSettings(form),
    description: e.description.value.trim() || null,
  };
  if (kind === 'cron') body.cron = e.cron.value.trim();
  else body.rate = `${e.rateEvery.value.trim()} ${e.rateUnit.value}`;
  return body;
}

function ScheduleForm({ test, schedule, open, onDone, onCancel }) {
  const [kind, setKind] = useState(schedule?.rate ? 'rate' : 'cron');
  const [error, setError] = useState(null);
  const panel = useFormPanel(Boolean(schedule)); // Edit pressed above: the form comes to the user
  const [rateEvery, rateUnit] = (schedule?.rate ?? '15 minutes').split(' ');
  async function submit(event) {
    event.preventDefault();
    setError(null);
    const body = readSchedule(event.currentTarget, kind);
    try {
      const saved = schedule ? await updateSchedule(test.id, schedule.id, body) : await createSchedule(test.id, body);
      onDone(`Schedule "${saved.name}" ${schedule ? 'saved' : 'created'}: ${saved.expression}.`);
    } catch (failure) {
      setError(failure);
    }
  }
  const errors = fieldErrors(error, BY_CODE);
  const props = (field) => invalidProps(errors, 'schedule', field);
  const fieldError = (field) => html`<${FieldError} errors=${errors} form="schedule" field=${field} />`;
  const title = schedule ? `Edit the schedule "${schedule.name}"` : 'New schedule';
  return html`
    <details class="card form-panel" open=${open} ref=${panel} data-testid="schedule-form-panel">
    <summary>${title}</summary>
    <form class="stacked" onSubmit=${submit} aria-label=${title} data-testid="schedule-form" noValidate>
      <label>Schedule name <input name="name" maxlength="200" defaultValue=${schedule?.name ?? ''} autocomplete="off" ...${props('name')} />${fieldError('name')}</label>
      <label>Schedule description (optional) <input name="description" maxlength="2000" defaultValue=${schedule?.description ?? ''} /></label>
      <fieldset class="kind">
        <legend>Repeat</legend>
        ${fieldError('kind')}
        <label class="checkbox"><input type="radio" name="kind" value="cron" checked=${kind === 'cron'} onChange=${() => setKind('cron')} /> on a cron expression</label>
        <label class="checkbox"><input type="radio" name="kind" value="rate" checked=${kind === 'rate'} onChange=${() => setKind('rate')} /> at a fixed rate</label>
      </fieldset>
      ${kind === 'cron' ? html`
        <label>Cron (minute hour day-of-month month day-of-week)
          <input name="cron" defaultValue=${schedule?.cron ?? '0 2 * * 1-5'} spellcheck="false" autocomplete="off" class="code" ...${props('cron')} />${fieldError('cron')}</label>` : html`
        <div class="inline-form">
          <label>Every <input name="rateEvery" type="number" min="1" defaultValue=${rateEvery} ...${props('rate')} /></label>
          <label>Unit <select name="rateUnit">${RATE_UNITS.map((u) => html`<option value=${u} selected=${u === rateUnit}>${u}</option>`)}</select></label>
          ${fieldError('rate')}
        </div>`}
      <label>Time zone (IANA) <input name="timezone" list="time-zones" defaultValue=${schedule?.timezone ?? 'UTC'} autocomplete="off" ...${props('timezone')} />${fieldError('timezone')}</label>
      <datalist id="time-zones">${ZONES.map((zone) => html`<option value=${zone} />`)}</datalist>
      <div class="grid-form">
        <label>Not before (your local time) <input name="startAt" type="datetime-local" defaultValue=${toLocalInput(schedule?.startAt)} ...${props('startAt')} />${fieldError('startAt')}</label>
        <label>Not after (your local time) <input name="endAt" type="datetime-local" defaultValue=${toLocalInput(schedule?.endAt)} ...${props('endAt')} />${fieldError('endAt')}</label>
        <label class="checkbox"><input type="checkbox" name="enabled" defaultChecked=${schedule?.enabled ?? true} /> Enabled</label>
      </div>
      <${RunSettingsFields} form="schedule" test=${test} settings=${schedule?.runSettings} errors=${errors} />
      <${ErrorMessage} error=${error} title=${schedule ? 'The schedule was not saved' : 'The schedule was not created'} />
      <div class="buttons">
        <button type="submit" data-testid="save-schedule">${schedule ? 'Save schedule' : 'Create schedule'}</button>
        ${schedule ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
      </div>
    </form>
    </details>`;
}
