// The form that creates a notification channel or edits one. Editing, only what changed is sent
// (PATCH); the kind and the scope are fixed (the API's rule: create another channel). The URL, the
// signing secret and the auth header's value are typed, sent, and emptied from the form once saved:
// the API never answers them, so an edit leaves them empty ("unchanged") unless a new one is typed.
import { html, useState } from '../../vendor/preact.js';
import { useFormPanel } from '../hooks.js';
import { createChannel, updateChannel } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { FieldError, invalidProps } from './field-error.js';
import { ErrorMessage } from './messages.js';
import { FILTER_LABELS, KIND_LABELS, scopeOfChannel } from './channel-labels.js';

// Domain 422s that name no location, shown at the field they are about.
const BY_CODE = {
  InvalidChannelUrl: () => 'url',
  SigningSecretRequired: () => 'signingSecret',
  UnexpectedChannelField: () => 'kind',
  InvalidScope: () => 'orgId',
};
const FORM = 'channel';
const SCOPE_FIELDS = [['orgId', 'Organisation id'], ['projectId', 'Project id'], ['envId', 'Environment id']];

function readCreate(elements, kind, testId) {
  const text = (name) => elements[name]?.value.trim() ?? '';
  const body = { name: text('name'), kind, url: text('url'), filter: elements.filter.value, enabled: elements.enabled.checked };
  if (kind === 'webhook') {
    if (text('signingSecret')) body.signingSecret = elements.signingSecret.value;
    const header = { name: text('authHeader.name') || undefined, value: elements['authHeader.value'].value || undefined };
    if (header.name || header.value) body.authHeader = header; // a half-filled header: the API names the missing part
  }
  if (testId) body.testId = testId;
  else for (const [name] of SCOPE_FIELDS) if (text(name)) body[name] = text(name);
  return body;
}

function readChanges(elements, channel) {
  const changes = {};
  const name = elements.name.value.trim();
  if (name !== channel.name) changes.name = name;
  if (elements.url.value.trim()) changes.url = elements.url.value.trim();
  if (channel.kind === 'webhook' && elements.signingSecret.value) changes.signingSecret = elements.signingSecret.value;
  if (elements.filter.value !== channel.filter) changes.filter = elements.filter.value;
  if (elements.enabled.checked !== channel.enabled) changes.enabled = elements.enabled.checked;
  return changes;
}

export function ChannelForm({ testId, channel, open, onDone, onCancel }) {
  const [kind, setKind] = useState(channel?.kind ?? 'slack');
  const [error, setError] = useState(null);
  const panel = useFormPanel(Boolean(channel)); // Edit pressed above: the form comes to the user

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    setError(null);
    try {
      if (channel) {
        const changes = readChanges(form.elements, channel);
        if (!Object.keys(changes).length) return onDone(`Nothing changed in the channel "${channel.name}".`);
        const saved = await updateChannel(channel.id, changes);
        onDone(`Channel "${saved.name}" saved.`);
      } else {
        const created = await createChannel(readCreate(form.elements, kind, testId));
        form.reset(); // the URL and secrets leave the page once sent
        setKind('slack');
        onDone(`Channel "${created.name}" created: it announces ${FILTER_LABELS[created.filter]} on ${created.endpointHost}.`);
      }
    } catch (failure) {
      setError(failure);
    }
  }

  const errors = fieldErrors(error, BY_CODE);
  const props = (field) => invalidProps(errors, FORM, field);
  const fieldError = (field) => html`<${FieldError} errors=${errors} form=${FORM} field=${field} />`;
  const title = channel ? `Edit the channel "${channel.name}"` : 'New notification channel';
  const webhook = kind === 'webhook';
  return html`
    <details class="card form-panel" open=${open} ref=${panel} data-testid="channel-form-panel">
    <summary>${title}</summary>
    <form class="grid-form" onSubmit=${submit} aria-label=${title} data-testid="channel-form" autocomplete="off" noValidate>
      <label>Channel name <input name="name" maxlength="200" defaultValue=${channel?.name ?? ''} ...${props('name')} />${fieldError('name')}</label>
      ${channel ? html`<p class="note">${KIND_LABELS[channel.kind]}, for ${scopeOfChannel(channel)} (fixed: create another channel to change them).</p>` : html`
        <label>Kind
          <select name="kind" value=${kind} onChange=${(event) => setKind(event.currentTarget.value)} ...${props('kind')}>
            ${Object.entries(KIND_LABELS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>${fieldError('kind')}</label>`}
      <label>${channel ? `New endpoint URL (empty: unchanged, host ${channel.endpointHost})` : 'Endpoint URL (never shown again)'}
        <input name="url" type="url" spellcheck="false" placeholder=${webhook ? 'https://ci.example.com/hooks/load-manager' : 'https://hooks.slack.com/services/…'}
          ...${props('url')} />${fieldError('url')}</label>
      <label>Announce
        <select name="filter" ...${props('filter')}>
          ${Object.entries(FILTER_LABELS).map(([value, label]) => html`<option value=${value} selected=${value === (channel?.filter ?? 'failed')}>${label}</option>`)}
        </select>${fieldError('filter')}</label>
      ${webhook ? html`
        <label>${channel ? `New signing secret (empty: unchanged${channel.signingSecretSet ? '' : ', none set'})` : 'Signing secret (16 to 256 characters, never shown again)'}
          <input name="signingSecret" type="password" autocomplete="new-password" ...${props('signingSecret')} />${fieldError('signingSecret')}</label>` : null}
      ${webhook && !channel ? html`
        <label>Auth header name (optional) <input name="authHeader.name" placeholder="Authorization" ...${props('authHeader.name')} />${fieldError('authHeader.name')}</label>
        <label>Auth header value (never shown again)
          <input name="authHeader.value" type="password" autocomplete="new-password" ...${props('authHeader.value')} />${fieldError('authHeader.value')}</label>` : null}
      ${!channel && !testId ? SCOPE_FIELDS.map(([name, label]) => html`
        <label>${label} <input name=${name} placeholder="any" ...${props(name)} />${fieldError(name)}</label>`) : null}
      ${!channel && !testId ? html`<p class="note">Empty organisation, project and environment: the whole account. Each level narrows it.</p>` : null}
      <label class="checkbox"><input type="checkbox" name="enabled" defaultChecked=${channel ? channel.enabled : true} /> Enabled</label>
      <${ErrorMessage} error=${error} title=${channel ? 'The channel was not saved' : 'The channel was not created'} />
      <div class="buttons">
        <button type="submit" data-testid=${channel ? 'save-channel' : 'create-channel'}>${channel ? 'Save channel' : 'Create channel'}</button>
        ${channel ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
      </div>
    </form>
    </details>`;
}
