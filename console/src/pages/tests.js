// /tests — every load test: name, latest revision, last run's status and result; and a form to
// create one (its script becomes revision 1).
import { html, useState } from '../../vendor/preact.js';
import { createTest, listRuns, listTests } from '../api.js';
import { encodeBase64 } from '../base64.js';
import { formatDateTime } from '../format.js';
import { readForm } from '../forms.js';
import { useApi, usePaged } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
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
    <${NewTestForm} />`;
}

// TODO(issue-7): a column with a small trend line per test (TimeChart, sparkline-sized) from the trends API.
function TestsTable({ tests }) {
  if (!tests.length) return html`<p data-testid="tests-list">No load tests yet: create one below.</p>`;
  return html`
    <table data-testid="tests-list" class="listing">
      <caption class="visually-hidden">Load tests, newest first</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Latest revision</th><th scope="col">Last run</th><th scope="col">Target</th><th scope="col">Updated</th></tr>
      </thead>
      <tbody>${tests.map((test) => html`<${TestRow} key=${test.id} test=${test} />`)}</tbody>
    </table>`;
}

function TestRow({ test }) {
  const base = `/tests/${encodeURIComponent(test.id)}`;
  return html`
    <tr data-testid="test-row">
      <th scope="row"><a href=${base}>${test.name}</a></th>
      <td><a href=${`${base}/history`}>Revision ${test.latestRevisionNumber}</a></td>
      <td><${LastRun} testId=${test.id} /></td>
      <td class="url">${test.targetUrl ?? '—'}</td>
      <td>${formatDateTime(test.updatedAt)}</td>
    </tr>`;
}

/** The test's newest run, as the runs list answers it (one small request per row). */
function LastRun({ testId }) {
  const { data, error } = useApi(() => listRuns(testId, { limit: 1 }), [testId]);
  if (error) return html`<span class="muted">unavailable</span>`;
  const run = data?.items?.[0];
  if (!data) return html`<span class="muted">…</span>`;
  if (!run) return html`<span class="muted">never run</span>`;
  return html`
    <a href=${`/runs/${encodeURIComponent(run.id)}`} class="last-run">
      <${StatusBadge} status=${run.status} /> <${ResultBadge} result=${run.result} />
      <span class="visually-hidden"> run of ${formatDateTime(run.createdAt)}</span>
    </a>`;
}

function NewTestForm() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const { script, ...fields } = readForm(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const test = await createTest({ ...fields, scriptContent: encodeBase64(script ?? '') });
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
        <label>Locust script
          <textarea name="script" rows="12" spellcheck="false" class="code" defaultValue=${STARTER_SCRIPT}></textarea>
        </label>
        <label>Or load the script from a file <input type="file" accept=".py,text/x-python" onChange=${loadFile} /></label>
        <${ErrorMessage} error=${error} title="The test was not created" />
        <div><button type="submit" disabled=${busy}>Create test</button></div>
      </form>
    </section>`;
}
