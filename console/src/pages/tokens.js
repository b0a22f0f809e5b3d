// /tokens — API tokens for pipelines (admins only; the API decides, access.js hides the page from
// others). A token carries a role (viewer, runner or editor), an expiry, and optionally the tests it
// may touch. POST /v1/tokens answers the token itself this once: the page shows it with a copy
// button and keeps it nowhere (no storage, gone on reload); the API keeps only its hash, so the list
// shows its visible prefix (`lmt_…`) to recognise a leaked one. Revoking (DELETE) takes effect at once.
import { html, useEffect, useRef, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { createToken, listTests, listTokens, revokeToken } from '../api.js';
import { fieldErrors } from '../field-errors.js';
import { formatDateTime } from '../format.js';
import { usePaged } from '../hooks.js';
import { FieldError, invalidProps } from '../components/field-error.js';
import { ErrorMessage, Loading, Notice } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
import { RoleNeeded } from '../components/role-needed.js';

// What each role a token may have does (admin stays with people).
const ROLE_CHOICES = [
  { role: 'runner', label: 'runner: reads, runs', note: 'reads everything, starts and stops runs, sets baselines' },
  { role: 'viewer', label: 'viewer: reads', note: 'reads everything' },
  { role: 'editor', label: 'editor: reads, runs, edits', note: 'also changes scripts, tests, criteria, triggers and schedules' },
];
const DEFAULT_DAYS = 90;

export default function TokensPage() {
  if (!may('GET /v1/tokens')) {
    return html`<${PageHeading} title="API tokens" /><${RoleNeeded} route="GET /v1/tokens" what="API tokens" />`;
  }
  return html`<${Tokens} />`;
}

function Tokens() {
  const tokens = usePaged((cursor) => listTokens({ cursor }), []);
  const tests = usePaged((cursor) => listTests({ limit: 100, cursor }), []);
  const [created, setCreated] = useState(null); // the answer to POST: held in memory only, until dismissed
  const [outcome, setOutcome] = useState({ message: null, error: null });
  const names = Object.fromEntries(tests.items.map((test) => [test.id, test.name]));

  async function revoke(token) {
    if (!window.confirm(`Revoke the token "${token.name}" (${token.prefix}…)? Every pipeline using it is refused from now on.`)) return;
    try {
      await revokeToken(token.id);
      setOutcome({ message: `Revoked the token "${token.name}".`, error: null });
      tokens.reload();
    } catch (error) {
      setOutcome({ message: null, error });
    }
  }

  function onCreated(answer) {
    setCreated(answer);
    setOutcome({ message: null, error: null });
    tokens.reload();
  }

  return html`
    <${PageHeading} title="API tokens" />
    <p>A pipeline calls the API with a token instead of a person's sign-in: <code>Authorization: Bearer lmt_…</code>,
      or <code>LOAD_MANAGER_TOKEN</code> for the <code>load-manager</code> CLI. A token acts with its own role, within the tests it names.</p>
    ${created ? html`<${NewToken} token=${created} onDone=${() => setCreated(null)} />` : null}
    <${ErrorMessage} error=${outcome.error} title="Not revoked" />
    ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
    <h2>Tokens</h2>
    <${ErrorMessage} error=${tokens.error} title="Could not list the tokens" />
    ${tokens.loading && !tokens.items.length ? html`<${Loading} what="Loading tokens" />`
      : tokens.error && !tokens.items.length ? null : html`<${TokensTable} tokens=${tokens.items} names=${names} onRevoke=${revoke} />`}
    <${LoadMore} paged=${tokens} what="tokens" />
    ${may('POST /v1/tokens') ? html`<${TokenForm} tests=${tests} onCreated=${onCreated} />` : null}`;
}

/** The token, this once: a read-only field to select, a copy button, and why it will not come back. */
function NewToken({ token, onDone }) {
  const heading = useRef();
  const field = useRef();
  const [copied, setCopied] = useState('');
  useEffect(() => heading.current?.focus(), [token.id]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied('Copied to the clipboard.');
    } catch {
      field.current.select(); // no clipboard API here (or not allowed): the text is selected to copy by hand
      setCopied(document.execCommand('copy') ? 'Copied to the clipboard.' : 'Selected: copy it with Ctrl+C (⌘C).');
    }
  }

  return html`
    <section class="card token-once" aria-labelledby="new-token-heading" data-testid="new-token">
      <h2 id="new-token-heading" ref=${heading} tabindex="-1">The token "${token.name}" is created</h2>
      <p class="warning-box"><strong>Copy it now: you will not see it again.</strong> The API keeps only its hash;
        if it is lost, revoke it and create another.</p>
      <div class="inline-form">
        <label>Token (${token.role}${token.loadTestIds?.length ? `, ${token.loadTestIds.length} test${token.loadTestIds.length > 1 ? 's' : ''}` : ', every test'})
          <input ref=${field} class="code" readOnly value=${token.token} data-testid="new-token-value"
            onFocus=${(event) => event.currentTarget.select()} spellcheck="false" autocomplete="off" /></label>
        <button type="button" data-testid="copy-token" onClick=${copy}>Copy</button>
      </div>
      <p class="small" aria-live="polite" data-testid="copy-outcome">${copied}</p>
      <p>In a pipeline: <code>export LOAD_MANAGER_TOKEN=…</code>, then <code>load-manager runs start TEST_ID --wait</code>.</p>
      <button type="button" class="secondary" onClick=${onDone}>Done: I have copied it</button>
    </section>`;
}

function TokensTable({ tokens, names, onRevoke }) {
  if (!tokens.length) return html`<p data-testid="tokens-list">No token yet: create one below.</p>`;
  return html`
    <table class="listing" data-testid="tokens-list">
      <caption class="visually-hidden">API tokens</caption>
      <thead><tr>
        <th scope="col">Name</th><th scope="col">Role</th><th scope="col">Tests</th><th scope="col">Created</th>
        <th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Revoked</th><th scope="col">Actions</th>
      </tr></thead>
      <tbody>${tokens.map((token) => html`<${TokenRow} key=${token.id} token=${token} names=${names} onRevoke=${onRevoke} />`)}</tbody>
    </table>`;
}

function TokenRow({ token, names, onRevoke }) {
  const expired = token.expiresAt != null && token.expiresAt <= Date.now();
  return html`
    <tr data-testid="token-row" data-token-id=${token.id} data-name=${token.name} data-revoked=${String(token.revokedAt != null)}>
      <th scope="row">${token.name}<br /><code class="small" data-testid="token-prefix">${token.prefix}…</code></th>
      <td><span class="badge">${token.role}</span></td>
      <td><${Scope} ids=${token.loadTestIds} names=${names} /></td>
      <td>${token.createdBy}<br /><span class="small">${formatDateTime(token.createdAt)}</span></td>
      <td>${token.lastUsedAt != null ? formatDateTime(token.lastUsedAt) : html`<span class="muted">never</span>`}</td>
      <td>${formatDateTime(token.expiresAt)}${expired ? html` <span class="badge status-cancelled">expired</span>` : null}</td>
      <td>${token.revokedAt != null ? html`<span class="badge status-failed">revoked</span> <span class="small">${formatDateTime(token.revokedAt)}</span>` : '—'}</td>
      <td>${token.revokedAt == null && may('DELETE /v1/tokens/{tokenId}') ? html`
        <button type="button" class="danger" data-testid="revoke-token" onClick=${() => onRevoke(token)}>Revoke<span class="visually-hidden"> ${token.name}</span></button>` : null}</td>
    </tr>`;
}

function Scope({ ids, names }) {
  if (!ids?.length) return html`every test`;
  return html`<ul class="plain">${ids.map((testId) => html`
    <li><a href=${`/tests/${encodeURIComponent(testId)}`}>${names[testId] ?? testId}</a></li>`)}</ul>`;
}

function TokenForm({ tests, onCreated }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const picked = [...form.querySelectorAll('input[name="loadTestIds"]:checked')].map((input) => input.value);
    const body = { name: form.elements.name.value.trim(), role: form.elements.role.value };
    if (form.elements.expiresInDays.value !== '') body.expiresInDays = Number(form.elements.expiresInDays.value);
    if (picked.length) body.loadTestIds = picked;
    setBusy(true);
    setError(null);
    try {
      onCreated(await createToken(body));
      form.reset();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const errors = fieldErrors(error, { LoadTestNotFound: () => 'loadTestIds' });
  return html`
    <section class="card" aria-labelledby="token-form-heading">
      <h2 id="token-form-heading">New token</h2>
      <form class="grid-form" onSubmit=${submit} data-testid="token-form" autocomplete="off" noValidate>
        <label>Name <input name="name" required maxlength="100" placeholder="e.g. github-actions-shop" ...${invalidProps(errors, 'token', 'name')} />
          <${FieldError} errors=${errors} form="token" field="name" /></label>
        <label>Role
          <select name="role" ...${invalidProps(errors, 'token', 'role')}>
            ${ROLE_CHOICES.map((choice) => html`<option value=${choice.role} selected=${choice.role === 'runner'}>${choice.label}</option>`)}
          </select>
          <${FieldError} errors=${errors} form="token" field="role" /></label>
        <label>Expires in (days, 1 to 365)
          <input name="expiresInDays" type="number" min="1" max="365" step="1" defaultValue=${DEFAULT_DAYS} ...${invalidProps(errors, 'token', 'expiresInDays')} />
          <${FieldError} errors=${errors} form="token" field="expiresInDays" /></label>
        <p class="note">${ROLE_CHOICES.map((choice, i) => html`${i ? '; ' : ''}<strong>${choice.role}</strong> ${choice.note}`)}.</p>
        <${TestPicker} tests=${tests} errors=${errors} />
        <${ErrorMessage} error=${error} title="The token was not created" />
        <div class="buttons"><button type="submit" data-testid="create-token" disabled=${busy}>Create token</button></div>
      </form>
    </section>`;
}

/** The tests a token may touch: none ticked means every test of the account. */
function TestPicker({ tests, errors }) {
  return html`
    <fieldset class="test-picker">
      <legend>Tests it may touch (none ticked: every test, now and later)</legend>
      <${ErrorMessage} error=${tests.error} title="Could not list the tests" />
      ${tests.items.length ? html`<ul class="plain picker-list">${tests.items.map((test) => html`
        <li><label class="checkbox"><input type="checkbox" name="loadTestIds" value=${test.id} /> ${test.name}
          <span class="muted small">${test.id.slice(0, 8)}</span></label></li>`)}</ul>`
        : tests.loading ? html`<${Loading} what="Loading tests" />` : html`<p class="muted">No test yet.</p>`}
      <${LoadMore} paged=${tests} what="tests" />
      <${FieldError} errors=${errors} form="token" field="loadTestIds" />
    </fieldset>`;
}
