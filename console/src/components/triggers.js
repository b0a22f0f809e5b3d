// A test's event triggers: each one an EventBridge rule matching `eventPattern` (EventBridge's own
// syntax; EventBridge matches, not us), what its last firings did, and a form to add one.
import { html, useState } from '../../vendor/preact.js';
import { createTrigger, deleteTrigger, listTriggers } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatDateTime, shortId } from '../format.js';
import { useApi } from '../hooks.js';
import { FieldError, invalidProps } from './field-error.js';
import { ErrorMessage, Loading, Notice } from './messages.js';
import { RunSettingsFields, describeRunSettings, readRunSettings } from './run-settings-fields.js';

export function Triggers({ test }) {
  const triggers = useApi(() => listTriggers(test.id), [test.id]);
  const [outcome, setOutcome] = useState({ error: null, message: null });
  async function remove(trigger) {
    if (!window.confirm(`Delete the trigger "${trigger.name}"? Its EventBridge rule goes with it.`)) return;
    setOutcome({ error: null, message: null });
    try {
      await deleteTrigger(test.id, trigger.id);
      setOutcome({ error: null, message: `Trigger "${trigger.name}" deleted.` });
      triggers.reload();
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  const items = triggers.data?.items ?? [];
  return html`
    <section aria-labelledby="triggers-heading" data-testid="triggers">
      <h3 id="triggers-heading">Event triggers</h3>
      <p class="muted">A run starts when an event on the stack's bus matches a trigger's pattern (EventBridge's pattern syntax).
        Locally, <code>load-manager serve</code> hosts that bus under <code>/aws</code>.</p>
      <${ErrorMessage} error=${triggers.error} title="Could not list the triggers" />
      <${ErrorMessage} error=${outcome.error} title="Not deleted" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${triggers.loading && !triggers.data ? html`<${Loading} what="Loading triggers" />`
        : items.length ? items.map((trigger) => html`<${TriggerCard} key=${trigger.id} trigger=${trigger} onDelete=${() => remove(trigger)} />`)
        : html`<p>No trigger.</p>`}
      ${triggers.data ? html`<button type="button" class="secondary" onClick=${() => triggers.reload()}>Refresh triggers</button>` : null}
      <${TriggerForm} test=${test} onCreated=${() => triggers.reload()} />
    </section>`;
}

function TriggerCard({ trigger, onDelete }) {
  return html`
    <article class="card automation-item" data-testid="trigger-row" data-trigger-id=${trigger.id} aria-label=${`Trigger ${trigger.name}`}>
      <h4>${trigger.name} <span class="muted small">${shortId(trigger.id)}</span></h4>
      ${trigger.description ? html`<p>${trigger.description}</p>` : null}
      <dl class="facts">
        <dt>Event pattern</dt><dd><pre class="pattern">${JSON.stringify(trigger.eventPattern, null, 2)}</pre></dd>
        <dt>Run settings</dt><dd>${describeRunSettings(trigger.runSettings)}</dd>
        <dt>Rule</dt><dd><code>${trigger.ruleName}</code> on bus <code>${trigger.eventBusName}</code></dd>
        <dt>Created</dt><dd>${trigger.createdBy}, ${formatDateTime(trigger.createdAt)}</dd>
      </dl>
      <${Firings} firings=${trigger.lastFirings} />
      <button type="button" class="danger" onClick=${onDelete}>Delete trigger<span class="visually-hidden"> ${trigger.name}</span></button>
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

function examplePattern(test) {
  return JSON.stringify({ source: ['load-manager'], 'detail-type': ['RunRequested'], detail: { loadTestId: [test.id] } }, null, 2);
}

function TriggerForm({ test, onCreated }) {
  const [outcome, setOutcome] = useState({ error: null, message: null });
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    let eventPattern;
    try {
      eventPattern = JSON.parse(form.elements.eventPattern.value);
    } catch (parse) {
      // Not sent: a pattern is a JSON object, and this text is not JSON at all.
      return setOutcome({ error: { message: `The event pattern is not JSON: ${parse.message}`, code: null, details: [{ location: ['eventPattern'], message: parse.message }] }, message: null });
    }
    const body = { name: form.elements.name.value.trim(), eventPattern, runSettings: readRunSettings(form) };
    if (form.elements.description.value.trim()) body.description = form.elements.description.value.trim();
    setOutcome({ error: null, message: null });
    try {
      const created = await createTrigger(test.id, body);
      form.reset();
      setOutcome({ error: null, message: `Trigger "${created.name}" created (rule ${created.ruleName}).` });
      onCreated();
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  const errors = fieldErrors(outcome.error);
  return html`
    <form class="card stacked" onSubmit=${submit} aria-labelledby="new-trigger-heading" data-testid="trigger-form" noValidate>
      <h4 id="new-trigger-heading">New event trigger</h4>
      <label>Trigger name <input name="name" maxlength="200" autocomplete="off" ...${invalidProps(errors, 'trigger', 'name')} />
        <${FieldError} errors=${errors} form="trigger" field="name" /></label>
      <label>Trigger description (optional) <input name="description" maxlength="2000" /></label>
      <label>Event pattern (JSON)
        <textarea name="eventPattern" rows="7" class="code" spellcheck="false" defaultValue=${examplePattern(test)}
          ...${invalidProps(errors, 'trigger', 'eventPattern')}></textarea>
        <${FieldError} errors=${errors} form="trigger" field="eventPattern" /></label>
      <${RunSettingsFields} form="trigger" test=${test} errors=${errors} />
      <${ErrorMessage} error=${outcome.error} title="The trigger was not created" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      <div><button type="submit" data-testid="create-trigger">Create trigger</button></div>
    </form>`;
}
