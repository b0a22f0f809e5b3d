// /variables — the environment variables and secrets every Locust process of a run gets, per scope
// (account → org → project → env → test; the most specific wins, a run's own variables above all).
// Variables show their values; a secret shows its name, scope and version only: the API never
// answers its value, and the form's field is a password field emptied once sent. Writes need the
// role access.js names: others see no form and no delete button (and the API's 403 is shown as it comes).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { deleteSecret, deleteVariable, listSecrets, listVariables, putSecret, putVariable } from '../api.js';
import { formatDateTime } from '../format.js';
import { readForm } from '../forms.js';
import { useApi } from '../hooks.js';
import { ErrorMessage, Loading, Notice } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';

export default function VariablesPage() {
  const variables = useApi(() => listVariables(), []);
  const secrets = useApi(() => listSecrets(), []);
  const [outcome, setOutcome] = useState({ message: null, error: null });

  async function remove(kind, entry) {
    if (!window.confirm(`Delete the ${kind} ${entry.name} (${scopeOf(entry)})?`)) return;
    try {
      await (kind === 'secret' ? deleteSecret(entry.id) : deleteVariable(entry.id));
      setOutcome({ message: `Deleted the ${kind} ${entry.name}.`, error: null });
      (kind === 'secret' ? secrets : variables).reload();
    } catch (error) {
      setOutcome({ message: null, error });
    }
  }

  function saved(kind, entry) {
    setOutcome({ message: `Saved the ${kind} ${entry.name} (${scopeOf(entry)}), version ${entry.version}.`, error: null });
    (kind === 'secret' ? secrets : variables).reload();
  }

  return html`
    <${PageHeading} title="Variables and secrets" />
    <p>Environment variables of every Locust process of a run. For each name a run gets the most specific:
      its test's, then its environment's, project's, organisation's, the account's; its own variables come first.</p>
    <${ErrorMessage} error=${outcome.error} title="Not deleted" />
    ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
    <h2>Variables</h2>
    <${ErrorMessage} error=${variables.error} title="Could not list the variables" />
    ${variables.loading && !variables.data ? html`<${Loading} what="Loading variables" />`
      : html`<${EntryTable} kind="variable" entries=${variables.data?.items ?? []} onDelete=${(e) => remove('variable', e)} />`}
    ${may('PUT /v1/variables') ? html`<${EntryForm} kind="variable" onSaved=${(e) => saved('variable', e)} />` : null}
    <h2>Secrets</h2>
    <p>A secret's value is written, never shown again; runs record which version they used.</p>
    <${ErrorMessage} error=${secrets.error} title="Could not list the secrets" />
    ${secrets.loading && !secrets.data ? html`<${Loading} what="Loading secrets" />`
      : html`<${EntryTable} kind="secret" entries=${secrets.data?.items ?? []} onDelete=${(e) => remove('secret', e)} />`}
    ${may('PUT /v1/secrets') ? html`<${EntryForm} kind="secret" onSaved=${(e) => saved('secret', e)} />` : null}`;
}

export function scopeOf(entry) {
  if (entry.testId) return `test ${entry.testId}`;
  const parts = [['org', entry.orgId], ['project', entry.projectId], ['env', entry.envId]].filter(([, v]) => v);
  return parts.length ? parts.map(([k, v]) => `${k} ${v}`).join(' / ') : 'account-wide';
}

function EntryTable({ kind, entries, onDelete }) {
  const testId = `${kind}s-list`;
  if (!entries.length) return html`<p data-testid=${testId}>No ${kind} set.</p>`;
  return html`
    <table class="listing" data-testid=${testId}>
      <caption class="visually-hidden">${kind === 'secret' ? 'Secrets' : 'Variables'}</caption>
      <thead><tr>
        <th scope="col">Name</th><th scope="col">Scope</th>
        <th scope="col">${kind === 'secret' ? 'Source' : 'Value'}</th>
        <th scope="col">Version</th><th scope="col">Updated</th><th scope="col">Actions</th>
      </tr></thead>
      <tbody>${entries.map((entry) => html`
        <tr key=${entry.id} data-testid=${`${kind}-row`} data-name=${entry.name}>
          <th scope="row"><code>${entry.name}</code></th>
          <td>${scopeOf(entry)}</td>
          <td>${kind === 'secret' ? (entry.reference ? html`reference <code>${entry.reference}</code>` : 'stored') : html`<code>${entry.value}</code>`}</td>
          <td>${entry.version}</td>
          <td>${entry.updatedBy}, ${formatDateTime(entry.updatedAt)}</td>
          <td>${may(kind === 'secret' ? 'DELETE /v1/secrets/{secretId}' : 'DELETE /v1/variables/{variableId}') ? html`
            <button type="button" class="danger" onClick=${() => onDelete(entry)}>Delete<span class="visually-hidden"> ${entry.name}, ${scopeOf(entry)}</span></button>` : null}</td>
        </tr>`)}
      </tbody>
    </table>`;
}

function EntryForm({ kind, onSaved }) {
  const [error, setError] = useState(null);
  const secret = kind === 'secret';

  async function submit(event) {
    event.preventDefault();
    setError(null);
    const form = event.currentTarget;
    try {
      const body = readForm(form);
      onSaved(await (secret ? putSecret(body) : putVariable(body)));
      form.reset(); // the secret's value leaves the page once sent
    } catch (failure) {
      setError(failure);
    }
  }

  const label = secret ? 'secret' : 'variable';
  return html`
    <section class="card" aria-labelledby=${`${kind}-form-heading`}>
      <h3 id=${`${kind}-form-heading`}>Set a ${label}</h3>
      <form class="grid-form" onSubmit=${submit} data-testid=${`${kind}-form`} autocomplete="off">
        <label>Name <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" placeholder="API_TOKEN" /></label>
        <label>${secret ? 'Value (never shown again)' : 'Value'}
          <input name="value" required type=${secret ? 'password' : 'text'} autocomplete=${secret ? 'new-password' : 'off'} /></label>
        <label>Organisation id <input name="orgId" placeholder="any" /></label>
        <label>Project id <input name="projectId" placeholder="any" /></label>
        <label>Environment id <input name="envId" placeholder="any" /></label>
        <label>Test id (alone) <input name="testId" placeholder="none" /></label>
        <${ErrorMessage} error=${error} title="Not saved" />
        <div class="buttons"><button type="submit">Save ${label}</button></div>
      </form>
    </section>`;
}
