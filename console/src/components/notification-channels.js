// Notification channels (GET/POST /v1/notification-channels, PATCH/DELETE …/{channelId}): where
// finished runs are announced, a signed webhook, Slack or Microsoft Teams. One test's (its automation
// tab: `test`) or the scopes' (the /notifications page: account, org, project, env). The endpoint URL,
// the signing secret and an auth header's value are write-only: the list shows what the API answers
// (the endpoint's host, whether a secret is set, the header's name), never them.
import { html, useState } from '../../vendor/preact.js';
import { deleteChannel, listChannels, updateChannel } from '../api.js';
import { formatDateTime, shortId } from '../format.js';
import { useActions, useApi } from '../hooks.js';
import { ChannelForm } from './channel-form.js';
import { FILTER_LABELS, KIND_LABELS, mayManage, scopeOfChannel } from './channel-labels.js';
import { ErrorMessage, Loading, Notice } from './messages.js';

/** `test`: that test's channels; without it, the channels of the account and its scopes. */
export function NotificationChannels({ test }) {
  const testId = test?.id ?? null;
  const channels = useApi(() => listChannels(testId ?? undefined), [testId]);
  const [editing, setEditing] = useState(null);
  const { outcome, setOutcome, act } = useActions(channels);
  const actions = {
    edit: setEditing,
    toggle: (c) => act(() => updateChannel(c.id, { enabled: !c.enabled }), `Channel "${c.name}" ${c.enabled ? 'disabled: it announces nothing until enabled' : 'enabled'}.`),
    remove: (c) => window.confirm(`Delete the channel "${c.name}"? Its EventBridge rule and stored credentials go with it.`)
      && act(() => deleteChannel(c.id), `Channel "${c.name}" deleted.`),
  };
  const items = (channels.data?.items ?? []).filter((c) => (testId ? c.testId === testId : !c.testId));
  // The form opens by itself to edit, and on the account's page while it has no channel (a test's
  // automation tab keeps it behind its title: triggers and schedules come first there).
  const mayWrite = mayManage(editing ? 'PATCH /v1/notification-channels/{channelId}' : 'POST /v1/notification-channels', testId);
  return html`
    <section class="card" aria-labelledby="channels-heading" data-testid="channels">
      <h2 id="channels-heading">Notification channels</h2>
      <p class="muted">${testId ? 'Where the end of this test\u2019s runs is announced.' : 'Where the end of the runs of every test in a scope is announced.'}
        ${' '}The endpoint URL, signing secret and auth header value are never shown again once saved.</p>
      <${ErrorMessage} error=${channels.error} title="Could not list the channels" />
      <${ErrorMessage} error=${outcome.error} title="Not changed" />
      ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
      ${channels.loading && !channels.data ? html`<${Loading} what="Loading channels" />`
        : html`<${ChannelTable} channels=${items} scoped=${!testId} actions=${actions} />`}
      ${testId ? null : html`<${TestChannels} channels=${(channels.data?.items ?? []).filter((c) => c.testId)} />`}
      ${mayWrite ? html`
        <${ChannelForm} key=${editing?.id ?? 'new'} testId=${testId} channel=${editing}
          open=${Boolean(editing) || (!testId && channels.data && !items.length)}
          onDone=${(message) => { setEditing(null); setOutcome({ error: null, message }); channels.reload(); }}
          onCancel=${() => setEditing(null)} />` : null}
    </section>`;
}

function ChannelTable({ channels, scoped, actions }) {
  if (!channels.length) {
    return html`<p data-testid="channels-list">${scoped ? 'No channel for a whole scope.'
      : 'No channel of this test\u2019s own. The account\u2019s and its scopes\u2019 channels (on the Notifications page) announce its runs all the same when they match.'}</p>`;
  }
  return html`
    <table class="listing" data-testid="channels-list">
      <caption class="visually-hidden">Notification channels</caption>
      <thead><tr>
        <th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Announces</th><th scope="col">Endpoint</th>
        ${scoped ? html`<th scope="col">Scope</th>` : null}<th scope="col">State</th><th scope="col">Changed</th><th scope="col">Actions</th>
      </tr></thead>
      <tbody>${channels.map((channel) => html`<${ChannelRow} key=${channel.id} channel=${channel} scoped=${scoped} actions=${actions} />`)}</tbody>
    </table>`;
}

function ChannelRow({ channel, scoped, actions }) {
  const editable = mayManage('PATCH /v1/notification-channels/{channelId}', channel.testId);
  const named = html`<span class="visually-hidden"> ${channel.name}</span>`;
  return html`
    <tr data-testid="channel-row" data-channel-id=${channel.id} data-enabled=${String(channel.enabled)}>
      <th scope="row">${channel.name}</th>
      <td>${KIND_LABELS[channel.kind] ?? channel.kind}</td>
      <td data-testid="channel-filter">${FILTER_LABELS[channel.filter] ?? channel.filter}</td>
      <td><code>${channel.endpointHost}</code>
        ${channel.kind === 'webhook' ? html`<br /><span class="small">${channel.signingSecretSet ? 'signed (secret set)' : 'no signing secret'}${
          channel.authHeaderName ? html`, header <code>${channel.authHeaderName}</code>` : null}</span>` : null}</td>
      ${scoped ? html`<td>${scopeOfChannel(channel)}</td>` : null}
      <td><span class=${`badge ${channel.enabled ? 'status-finished' : ''}`}>${channel.enabled ? 'Enabled' : 'Disabled'}</span></td>
      <td class="small">${channel.updatedBy ?? channel.createdBy}, ${formatDateTime(channel.updatedAt ?? channel.createdAt)}</td>
      <td><div class="actions">
        ${editable ? html`
          <button type="button" class="secondary" data-testid="edit-channel" onClick=${() => actions.edit(channel)}>Edit${named}</button>
          <button type="button" class="secondary" data-testid="toggle-channel" onClick=${() => actions.toggle(channel)}>
            ${channel.enabled ? 'Disable' : 'Enable'}${named}</button>` : null}
        ${mayManage('DELETE /v1/notification-channels/{channelId}', channel.testId) ? html`
          <button type="button" class="danger" data-testid="delete-channel" onClick=${() => actions.remove(channel)}>Delete${named}</button>` : null}
      </div></td>
    </tr>`;
}

/** The tests' own channels, for the whole picture: each is managed on its test's automation tab. */
function TestChannels({ channels }) {
  if (!channels.length) return null;
  return html`
    <details data-testid="test-channels">
      <summary>${channels.length} channel${channels.length === 1 ? '' : 's'} of single tests</summary>
      <ul class="links">${channels.map((channel) => html`
        <li key=${channel.id}>${channel.name} (${[KIND_LABELS[channel.kind] ?? channel.kind, FILTER_LABELS[channel.filter] ?? channel.filter,
          channel.enabled ? 'enabled' : 'disabled'].join(', ')}): <a href=${`/tests/${encodeURIComponent(channel.testId)}/automation`}>test ${shortId(channel.testId)}</a></li>`)}
      </ul>
    </details>`;
}
