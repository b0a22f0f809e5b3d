// /tests — every load test: name, latest revision, its last run (status, result, p95, when) and a
// small trend line (p95 of its last Finished runs), all from the one list request: each item of
// GET /v1/load-tests carries `lastRun` and `trend`. And a form to create a test from a script or a
// template (revision 1).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { createTest, listTemplates, listTests } from '../api.js';
import { decodeBase64, encodeBase64 } from '../base64.js';
import { formatDateTime, formatMs } from '../format.js';
import { readForm } from '../forms.js';
import { useApi, usePaged } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
import { Sparkline } from '../components/sparkline.js';
import { ResultBadge, StatusBadge } from '../components/status.js';

const STARTER_SCRIPT = `from locust import HttpUser, between, task


class WebsiteUser(HttpUser):
    wait_time = between(1, 2)

    @task
    def index(self):
        self.client.get("/")
`;

export default function TestsPage() {
  const tests = usePaged((cursor) => listTests({ limit: 50, cursor }), []);
  return html`
    <${PageHeading} title="Load tests" />
    <${ErrorMessage} error=${tests.error} title="Could not list the tests" />
    ${tests.loading && !tests.items.length ? html`<${Loading} what="Loading tests" />` : html`<${TestsTable} tests=${tests.items} />`}
    <${LoadMore} paged=${tests} what="tests" />
    ${may('POST /v1/load-tests') ? html`<${NewTestForm} />` : null}`;
}

function TestsTable({ tests }) {
  if (!tests.length) return html`<p data-testid="tests-list">No load tests yet${may('POST /v1/load-tests') ? ': create one below' : ''}.</p>`;
  return html`
    <table data-testid="tests-list" class="listing">
      <caption class="visually-hidden">Load tests, newest first</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Latest revision</th><th scope="col">Last run</th>
          <th scope="col">Last run's p95</th><th scope="col">p95 of the last Finished runs</th><th scope="col">Target</th>
          <th scope="col">Updated</th></tr>
      </thead>
      <tbody>${tests.map((test) => html`<${TestRow} key=${test.id} test=${test} />`)}</tbody>
    </table>`;
}

function TestRow({ test }) {
  const base = `/tests/${encodeURIComponent(test.id)}`;
  const run = test.lastRun;
  return html`
    <tr data-testid="test-row" data-last-run=${run?.runId ?? ''}>
      <th scope="row"><a href=${base}>${test.name}</a></th>
      <td><a href=${`${base}/history`}>Revision ${test.latestRevisionNumber}</a></td>
      <td><${LastRun} run=${run} /></td>
      <td data-testid="last-run-p95">${run ? formatMs(run.p95Ms) : ''}</td>
      <td><${TrendLine} test=${test} /></td>
      <td class="url">${test.targetUrl ?? '—'}</td>
      <td>${formatDateTime(test.updatedAt)}</td>
    </tr>`;
}

/** The test's newest run as the list answers it: status, result, when (ended, else created). */
function LastRun({ run }) {
  if (!run) return html`<span class="muted">never run</span>`;
  const when = run.endedAt ?? run.startedAt ?? run.createdAt;
  return html`
    <a href=${`/runs/${encodeURIComponent(run.runId)}`} class="last-run" data-testid="last-run" data-status=${run.status}>
      <${StatusBadge} status=${run.status} /> <${ResultBadge} result=${run.result} />
      <span class="visually-hidden"> run of revision ${run.revisionNumber},</span>
      <span class="small muted"> ${formatDateTime(when)}</span>
    </a>`;
}

/** p95 of the last Finished runs (the item's `trend`, what GET …/trends answers), linking to the trends page. */
function TrendLine({ test }) {
  const points = test.trend ?? [];
  if (!points.length) return html`<span class="muted">no Finished run</span>`;
  const values = points.map((point) => point.p95Ms);
  const last = points[points.length - 1];
  return html`
    <a href=${`/tests/${encodeURIComponent(test.id)}/trends`} class="trend-link">
      <${Sparkline} values=${values} testId="trend-sparkline"
        label=${`p95 of the last ${points.length} Finished runs of ${test.name}, from ${formatMs(values.find((v) => v != null))} to ${formatMs(last.p95Ms)}`} />
      <span class="visually-hidden"> trends of ${test.name}</span>
    </a>`;
}

/** A new test from the script typed (or loaded from a file) or from one of the API's templates. */
function NewTestForm() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [templateId, setTemplateId] = useState('');
  const templates = useApi(() => listTemplates(), []);
  const template = templates.data?.items.find((item) => item.id === templateId);

  async function submit(event) {
    event.preventDefault();
    const { script, ...fields } = readForm(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const test = await createTest(fields.templateId ? fields : { ...fields, scriptContent: encodeBase64(script ?? '') });
      navigate(`/tests/${encodeURIComponent(test.id)}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  async function loadFile(event) {
    const file = event.currentTarget.files?.[0];
    if (file) event.currentTarget.form.elements.script.value = await file.text();
  }

  return html`
    <section class="card" aria-labelledby="new-test-heading">
      <h2 id="new-test-heading">New test</h2>
      <form onSubmit=${submit} class="stacked">
        <label>Name <input name="name" required maxlength="200" autocomplete="off" /></label>
        <label>Target URL <input name="targetUrl" type="url" placeholder="http://127.0.0.1:9000" /></label>
        <label>Description <input name="description" maxlength="2000" /></label>
        <label>Start from
          <select name="templateId" value=${templateId} onChange=${(e) => setTemplateId(e.currentTarget.value)} data-testid="template-select">
            <option value="">the script below</option>
            ${(templates.data?.items ?? []).map((item) => html`<option value=${item.id}>template: ${item.name}</option>`)}
          </select>
        </label>
        <${ErrorMessage} error=${templates.error} title="Could not list the script templates" />
        ${template ? html`<${TemplatePreview} template=${template} />` : html`
          <label>Locust script
            <textarea name="script" rows="12" spellcheck="false" class="code" defaultValue=${STARTER_SCRIPT}></textarea>
          </label>
          <label>Or load the script from a file <input type="file" accept=".py,text/x-python" onChange=${loadFile} /></label>`}
        <${ErrorMessage} error=${error} title="The test was not created" />
        <div><button type="submit" disabled=${busy}>Create test</button></div>
      </form>
    </section>`;
}

/** What a template holds (GET /v1/script-templates answers every file with its content). */
function TemplatePreview({ template }) {
  const entry = template.files.find((file) => file.path === template.entryPath);
  return html`
    <div class="template-preview" data-testid="template-preview">
      <p>${template.description}</p>
      <p>Files: ${template.files.map((file, i) => html`${i ? ', ' : ''}<code>${file.path}</code>${file.path === template.entryPath ? ' (entry)' : ''}`)}.
        Revision 1 will be this template; edit it on the test's page.</p>
      ${entry ? html`<pre class="code" tabindex="0" aria-label=${`${template.entryPath} of the template`}>${decodeBase64(entry.content)}</pre>` : null}
    </div>`;
}
