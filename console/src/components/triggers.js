// A test's event triggers: each one an EventBridge rule matching `eventPattern` (EventBridge's own
// syntax; EventBridge matches, not us), enabled or not, what its last firings did, and a form to add
// one or edit one (PATCH: only what changed is sent; the API checks the result as a whole and
// rewrites the rule).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { createTrigger, deleteTrigger, listTriggers, updateTrigger } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatDateTime, shortId } from '../format.js';
import { useActions, useApi, useFormPanel } from '../hooks.js';
import { FieldError, invalidProps } from './field-error.js';
import { ErrorMessage, Loading, Notice } from './messages.js';
import { RUN_SETTINGS_FIELDS, RunSettingsFields, describeRunSettings, readRunSettings } from './run-settings-fields.js';

const isEnabled = (trigger) => trigger.enabled !== false;

export function Triggers({ test }) {
  const triggers = useApi(() => listTriggers(test.id), [test.id]);
  const [editing, setEditing] = useState(null);
  const { outcome, setOutcome, act } = useActions(triggers);
  const actions = {
    toggle: (t) => act(() => updateTrigger(test.id, t.id, { enabled: !isEnabled(t) }),
      `Trigger "${t.name}" ${isEnabled(t) ? 'disabled: its rule matches nothing until enabled' : 'enabled'}.`),
    remove: (t) => window.confirm(`Delete the trigger "${t.name}"? Its EventBridge rule goes with it.`)
      && act(() => deleteTrigger(test.id, t.id), `Trigger "${t.name}" deleted.`),
    edit: setEditing,
  };
  const items = triggers.data?.items ?? [];
  return html`
    <section aria-labelledby="triggers-heading" data-testid="triggers">
      <h3 id="triggers-heading">Event triggers</h3>
      <p class="muted">A run starts when an event on the stack's bus matches a trigger's pattern (EventBridge's pattern syntax).
        Locally, <code>load-manager serve</code> hosts that bus under <code>/aws</code>.</p>
      <${ErrorMessage} error=${triggers.error} title="Could not list the triggers" />
      <${ErrorMessage} error=${outcome.error} title="Not changed" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${triggers.loading && !triggers.data ? html`<${Loading} what="Loading triggers" />`
        : items.length ? items.map((trigger) => html`<${TriggerCard} key=${trigger.id} trigger=${trigger} actions=${actions} />`)
        : html`<p>No trigger.</p>`}
      ${triggers.data ? html`<button type="button" class="secondary" onClick=${() => triggers.reload()}>Refresh triggers</button>` : null}
      ${may(editing ? 'PATCH /v1/load-tests/{testId}/triggers/{triggerId}' : 'POST /v1/load-tests/{testId}/triggers') ? html`
        <${TriggerForm} key=${editing?.id ?? 'new'} test=${test} trigger=${editing} open=${Boolean(editing) || (triggers.data && !items.length)}
          onDone=${(message) => { setEditing(null); setOutcome({ error: null, message }); triggers.reload(); }}
          onCancel=${() => setEditing(null)} />` : null}
    </section>`;
}

function TriggerCard({ trigger, actions }) {
  const enabled = isEnabled(trigger);
  return html`
    <article class="card automation-item" data-testid="trigger-row" data-trigger-id=${trigger.id} data-enabled=${String(enabled)}
      aria-label=${`Trigger ${trigger.name}`}>
      <h4>${trigger.name} <span class=${`badge ${enabled ? 'status-finished' : ''}`}>${enabled ? 'Enabled' : 'Disabled'}</span>
        <span class="muted small"> ${shortId(trigger.id)}</span></h4>
      ${trigger.description ? html`<p>${trigger.description}</p>` : null}
      <dl class="facts">
        <dt>Event pattern</dt><dd><pre class="pattern" data-testid="trigger-pattern">${compactJson(trigger.eventPattern)}</pre></dd>
        <dt>Run settings</dt><dd>${describeRunSettings(trigger.runSettings)}</dd>
        <dt>Rule</dt><dd><code>${trigger.ruleName}</code> on bus <code>${trigger.eventBusName}</code></dd>
        <dt>Created</dt><dd>${trigger.createdBy}, ${formatDateTime(trigger.createdAt)}</dd>
        ${trigger.updatedAt ? html`<dt>Updated</dt><dd>${trigger.updatedBy}, ${formatDateTime(trigger.updatedAt)}</dd>` : null}
      </dl>
      <${Firings} firings=${trigger.lastFirings} />
      <div class="buttons">
        ${may('PATCH /v1/load-tests/{testId}/triggers/{triggerId}') ? html`
          <button type="button" class="secondary" data-testid="edit-trigger" onClick=${() => actions.edit(trigger)}>
            Edit<span class="visually-hidden"> ${trigger.name}</span></button>
          <button type="button" class="secondary" data-testid="toggle-trigger" onClick=${() => actions.toggle(trigger)}>
            ${enabled ? 'Disable' : 'Enable'}<span class="visually-hidden"> ${trigger.name}</span></button>` : null}
        ${may('DELETE /v1/load-tests/{testId}/triggers/{triggerId}') ? html`
          <button type="button" class="danger" onClick=${() => actions.remove(trigger)}>Delete trigger<span class="visually-hidden"> ${trigger.name}</span></button>` : null}
      </div>
    </article>`;
}

function Firings({ firings }) {
  if (!firings?.length) return html`<p class="muted">Not fired yet.</p>`;
  return html`
    <table class="listing" data-testid="trigger-firings">
      <caption>Last firings, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">Run or reason</th></tr></thead>
      <tbody>${firings.map((firing) => html`
        <tr data-outcome=${firing.outcome}>
          <td>${formatDateTime(firing.at)}</td>
          <td><code>${firing.source ?? '—'}</code> / <code>${firing.detailType ?? '—'}</code></td>
          <td><span class=${`badge outcome-${firing.outcome}`}>${firing.outcome}</span></td>
          <td>${firing.runId ? html`<a href=${`/runs/${encodeURIComponent(firing.runId)}`}>run ${shortId(firing.runId)}</a> ` : null}
            ${firing.code ? html`<code>${firing.code}</code> ` : null}${firing.reason ?? ''}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

/** Indented JSON with each list of plain values on one line: a pattern reads in a few lines. */
export function compactJson(value) {
  return JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner) => `[${inner.replace(/,\s+/g, ', ')}]`);
}

function examplePattern(test) {
  return { source: ['load-manager'], 'detail-type': ['RunRequested'], detail: { loadTestId: [test.id] } };
}

/** JSON with its keys sorted: two values equal as the API sees them compare equal. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).filter((k) => value[k] != null).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The form's trigger as the API takes it; editing, the run settings the form has no field for are kept. */
function readTrigger(form, trigger) {
  const e = form.elements;
  const kept = Object.fromEntries(Object.entries(trigger?.runSettings ?? {})
    .filter(([name, value]) => value != null && !RUN_SETTINGS_FIELDS.includes(name)));
  return {
    name: e.name.value.trim(), description: e.description.value.trim() || null,
    eventPattern: JSON.parse(e.eventPattern.value), runSettings: { ...kept, ...readRunSettings(form) }, enabled: e.enabled.checked,
  };
}

/** What an edit changes: only those fields are sent (PATCH). */
function changes(body, trigger) {
  return Object.fromEntries(Object.entries(body).filter(([name, value]) => canonical(value) !== canonical(trigger[name] ?? null)));
}

async function saveTrigger(form, test, trigger) {
  const body = readTrigger(form, trigger);
  if (!trigger) {
    if (!body.description) delete body.description;
    const created = await createTrigger(test.id, body);
    form.reset();
    return `Trigger "${created.name}" created (rule ${created.ruleName}).`;
  }
  const changed = changes(body, trigger);
  if (!Object.keys(changed).length) return `Nothing changed in the trigger "${trigger.name}".`;
  const saved = await updateTrigger(test.id, trigger.id, changed);
  return `Trigger "${saved.name}" saved (rule ${saved.ruleName} rewritten).`;
}

// Domain 422s about the pattern (EventBridge's own verdict, the tenant's constraint), shown at it.
const PATTERN_ERRORS = Object.fromEntries(['InvalidEventPattern', 'EventSourceRequired', 'MixedEventSources', 'EventSourceNotOwned',
  'UnconstrainablePattern'].map((code) => [code, () => 'eventPattern']));

function TriggerForm({ test, trigger, open, onDone, onCancel }) {
  const [error, setError] = useState(null);
  const panel = useFormPanel(Boolean(trigger)); // Edit pressed above: the form comes to the user
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      JSON.parse(form.elements.eventPattern.value);
    } catch (parse) {
      // Not sent: a pattern is a JSON object, and this text is not JSON at all.
      return setError({ message: `The event pattern is not JSON: ${parse.message}`, code: null, details: [{ location: ['eventPattern'], message: parse.message }] });
    }
    setError(null);
    try {
      onDone(await saveTrigger(form, test, trigger));
    } catch (failure) {
      setError(failure);
    }
  }
  const errors = fieldErrors(error, PATTERN_ERRORS);
  const title = trigger ? `Edit the trigger "${trigger.name}"` : 'New event trigger';
  return html`
    <details class="card form-panel" open=${open} ref=${panel} data-testid="trigger-form-panel">
    <summary>${title}</summary>
    <form class="stacked" onSubmit=${submit} aria-label=${title} data-testid="trigger-form" noValidate>
      <label>Trigger name <input name="name" maxlength="200" autocomplete="off" defaultValue=${trigger?.name ?? ''}
        ...${invalidProps(errors, 'trigger', 'name')} />
        <${FieldError} errors=${errors} form="trigger" field="name" /></label>
      <label>Trigger description (optional) <input name="description" maxlength="2000" defaultValue=${trigger?.description ?? ''} /></label>
      <label>Event pattern (JSON)
        <textarea name="eventPattern" rows="7" class="code" spellcheck="false"
          defaultValue=${JSON.stringify(trigger?.eventPattern ?? examplePattern(test), null, 2)}
          ...${invalidProps(errors, 'trigger', 'eventPattern')}></textarea>
        <${FieldError} errors=${errors} form="trigger" field="eventPattern" /></label>
      <label class="checkbox"><input type="checkbox" name="enabled" defaultChecked=${trigger ? isEnabled(trigger) : true} /> Enabled</label>
      <${RunSettingsFields} form="trigger" test=${test} settings=${trigger?.runSettings ?? {}} errors=${errors} />
      <${ErrorMessage} error=${error} title=${trigger ? 'The trigger was not saved' : 'The trigger was not created'} />
      <div class="buttons">
        <button type="submit" data-testid=${trigger ? 'save-trigger' : 'create-trigger'}>${trigger ? 'Save trigger' : 'Create trigger'}</button>
        ${trigger ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
      </div>
    </form>
    </details>`;
}
