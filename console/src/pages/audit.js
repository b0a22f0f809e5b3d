// /audit — the account's audit log (admins only; the API decides, access.js hides the page from
// others): every change to configuration, newest first, each with who (actor and role), when, what
// (action, target, the fields it set) and the digests of the resource before and after. The filters are the
// URL's query (`?target=&actor=&from=&to=&limit=`, times in epoch ms as the API takes them: from
// inclusive, to exclusive; a test's id also finds its script's, triggers', schedules' and runs'), so a filtered
// view is a link; "Show more" follows the API's cursor. Records are never changed: nothing to edit here.
import { html } from '../../vendor/preact.js';
import { may } from '../access.js';
import { listAudit } from '../api.js';
import { formatDateTime, shortId } from '../format.js';
import { usePaged } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
import { RoleNeeded } from '../components/role-needed.js';

const FILTERS = ['target', 'actor', 'from', 'to', 'limit'];
const DIGEST_SHOWN = 12;
// A target's type (the API's name) in words; display only.
const TYPE_WORDS = { loadTest: 'test', notificationChannel: 'notification channel' };
const typeWords = (type) => TYPE_WORDS[type] ?? type;

export default function AuditPage({ query }) {
  if (!may('GET /v1/audit')) {
    return html`<${PageHeading} title="Audit log" /><${RoleNeeded} route="GET /v1/audit" what="The audit log's records" />`;
  }
  return html`<${AuditLog} query=${query} />`;
}

function AuditLog({ query }) {
  const filters = Object.fromEntries(FILTERS.filter((name) => query[name]).map((name) => [name, query[name]]));
  const records = usePaged((cursor) => listAudit({ ...filters, cursor }), [JSON.stringify(filters)]);
  const filtered = Object.keys(filters).some((name) => name !== 'limit');
  return html`
    <${PageHeading} title="Audit log" />
    <p>Every change to the account's configuration (tests, scripts, criteria, baselines, triggers, schedules, clusters,
      variables and secrets by name, notification channels, tokens) and every run started or stopped, newest first. Records are
      written with the change itself and never updated or deleted. A digest is the SHA-256 of the resource as JSON.</p>
    <${Filters} filters=${filters} />
    <${ErrorMessage} error=${records.error} title="Could not read the audit log" />
    ${records.loading && !records.items.length ? html`<${Loading} what="Loading the audit log" />`
      : records.error && !records.items.length ? null : html`<${AuditTable} records=${records.items} filtered=${filtered} />`}
    <${LoadMore} paged=${records} what="records" />`;
}

/** epoch ms ↔ the local date and time a datetime-local input shows. */
function toLocalInput(epochMs) {
  if (!epochMs) return '';
  const at = new Date(Number(epochMs));
  const two = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

const fromLocalInput = (value) => (value ? String(new Date(value).getTime()) : '');

function Filters({ filters }) {
  function submit(event) {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const wanted = {
      target: form.target.value.trim(), actor: form.actor.value.trim(),
      from: fromLocalInput(form.from.value), to: fromLocalInput(form.to.value), limit: filters.limit ?? '',
    };
    const search = new URLSearchParams(Object.entries(wanted).filter(([, value]) => value !== ''));
    navigate(`/audit${search.toString() ? `?${search}` : ''}`);
  }
  return html`
    <form class="grid-form card" onSubmit=${submit} aria-label="Filter the audit log" data-testid="audit-filters">
      <label>Target id <input name="target" defaultValue=${filters.target ?? ''} placeholder="a test, run, trigger, token… id" spellcheck="false" /></label>
      <label>Actor <input name="actor" defaultValue=${filters.actor ?? ''} placeholder="e.g. ana@example.com or token:ci" spellcheck="false" /></label>
      <label>From <input name="from" type="datetime-local" defaultValue=${toLocalInput(filters.from)} /></label>
      <label>Before <input name="to" type="datetime-local" defaultValue=${toLocalInput(filters.to)} /></label>
      <div class="buttons">
        <button type="submit" data-testid="apply-filters">Show</button>
        ${Object.keys(filters).length ? html`<a href="/audit">Clear the filters</a>` : null}
      </div>
    </form>`;
}

function AuditTable({ records, filtered }) {
  if (!records.length) {
    return html`<p data-testid="audit-list">${filtered ? 'No record matches these filters.' : 'No record yet: changes will appear here.'}</p>`;
  }
  return html`
    <table class="listing" data-testid="audit-list">
      <caption class="visually-hidden">Audit records, newest first</caption>
      <thead><tr>
        <th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th>
        <th scope="col">Before → after</th>
      </tr></thead>
      <tbody>${records.map((record) => html`<${AuditRow} key=${record.id} record=${record} />`)}</tbody>
    </table>`;
}

function AuditRow({ record }) {
  const filterBy = (name, value) => `/audit?${new URLSearchParams({ [name]: value })}`;
  return html`
    <tr data-testid="audit-row" data-action=${record.action} data-actor=${record.actor} data-target=${record.target?.id ?? ''}>
      <td><time datetime=${new Date(record.at).toISOString()}>${formatDateTime(record.at)}</time></td>
      <td><a href=${filterBy('actor', record.actor)} title="Only this actor's records">${record.actor}</a>
        ${record.role ? html` <span class="badge">${record.role}</span>` : null}</td>
      <th scope="row"><code>${record.action}</code>
        ${record.changed?.length ? html`<br /><span class="small muted">${record.changed.join(', ')}</span>` : null}</th>
      <td><${Target} target=${record.target} action=${record.action} filterBy=${filterBy} /></td>
      <td class="small"><${Digest} value=${record.beforeDigest} /> → <${Digest} value=${record.afterDigest} /></td>
    </tr>`;
}

/** What changed, linked to where it lives in the console, and a link to its own records. */
function Target({ target, action, filterBy }) {
  if (!target) return '—';
  const page = targetPage(target, action);
  const label = html`${typeWords(target.type)} <code>${shortId(target.id)}</code>`;
  return html`
    ${page ? html`<a href=${page}>${label}</a>` : label}
    ${target.loadTestId && target.type !== 'loadTest' ? html`<span class="small"> of test <a href=${`/tests/${encodeURIComponent(target.loadTestId)}`}>
      <code>${shortId(target.loadTestId)}</code></a></span>` : null}
    <br /><a class="small" href=${filterBy('target', target.id)}>records of this ${typeWords(target.type)}</a>`;
}

function targetPage(target, action) {
  const testPath = (testId, tab = '') => `/tests/${encodeURIComponent(testId)}${tab}`;
  if (target.type === 'loadTest') return testPath(target.id, /^(criteria|autoStop|baseline)\./.test(action) ? '/gates' : '');
  if (target.type === 'run') return `/runs/${encodeURIComponent(target.id)}`;
  if (target.type === 'token') return '/tokens';
  if (target.type === 'cluster') return '/clusters';
  if (target.type === 'variable' || target.type === 'secret') return '/variables';
  if (!target.loadTestId) return null;
  const tabs = { trigger: '/automation', schedule: '/automation', script: '/history' };
  return testPath(target.loadTestId, tabs[target.type] ?? '');
}

function Digest({ value }) {
  if (!value) return html`<span class="muted">none</span>`;
  return html`<code title=${value}>${value.slice(0, DIGEST_SHOWN)}</code>`;
}
