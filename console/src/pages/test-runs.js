// /tests/{id}/runs — the test's runs, newest first, and a form to start one. Empty fields are not
// sent, so the API applies the test's defaults (shown as placeholders) and the latest revision.
import { html, useRef, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { getTest, listRuns, startRun } from '../api.js';
import { formatDateTime, formatSeconds, shortId } from '../format.js';
import { newIdempotencyKey, readForm } from '../forms.js';
import { useApi, usePaged, usePolling } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
import { FINAL_STATUSES, ResultBadge, StatusBadge } from '../components/status.js';
import { RunOrigin } from '../components/run-origin.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';

const REFRESH_WHILE_ACTIVE_MS = 3000;

export default function TestRunsPage({ params }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const runs = usePaged((cursor) => listRuns(testId, { limit: 25, cursor }), [testId]);
  const anyActive = runs.items.some((run) => !FINAL_STATUSES.has(run.status));
  usePolling(() => runs.reload(), anyActive ? REFRESH_WHILE_ACTIVE_MS : null);

  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${test.data ? `${test.data.name}: runs` : 'Runs'} />
    <${TestNav} testId=${testId} current="runs">
    ${test.data && may('POST /v1/load-tests/{testId}/runs') ? html`<${StartRunForm} test=${test.data} />` : null}
    <${ErrorMessage} error=${test.error || runs.error} title="Could not load the runs" />
    <h2>Runs</h2>
    ${runs.loading && !runs.items.length ? html`<${Loading} what="Loading runs" />`
      : runs.items.length ? html`<${RunsTable} testId=${testId} runs=${runs.items} baselineRunId=${test.data?.baselineRunId} />`
      : html`<p>This test has not run yet.</p>`}
    <${LoadMore} paged=${runs} what="runs" />
    </${TestNav}>`;
}

/** The runs, newest first; tick two and compare them (the older one is the base). */
function RunsTable({ testId, runs, baselineRunId }) {
  const base = `/tests/${encodeURIComponent(testId)}`;
  const [picked, setPicked] = useState([]);
  const toggle = (run) => setPicked((now) => (now.includes(run.id) ? now.filter((id) => id !== run.id) : [...now, run.id]));
  function compare() {
    const [older, newer] = runs.filter((run) => picked.includes(run.id)).sort((a, b) => a.createdAt - b.createdAt);
    navigate(`/runs/compare?base=${encodeURIComponent(older.id)}&target=${encodeURIComponent(newer.id)}`);
  }
  return html`
    <div class="actions-row">
      <button type="button" class="secondary" data-testid="compare-selected" disabled=${picked.length !== 2} onClick=${compare}>
        Compare the two selected runs</button>
      <span class="muted" aria-live="polite">${picked.length === 2 ? 'Two runs selected.' : `Select two runs to compare (${picked.length} selected).`}</span>
    </div>
    <table class="listing" data-testid="runs-list">
      <caption class="visually-hidden">Runs, newest first</caption>
      <thead><tr>
        <th scope="col">Compare</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Result</th><th scope="col">Revision</th>
        <th scope="col">Users</th><th scope="col">Duration</th><th scope="col">Workers</th><th scope="col">Started by</th>
      </tr></thead>
      <tbody>
        ${runs.map((run) => html`
          <tr key=${run.id} data-testid="run-row" data-run-id=${run.id}>
            <td><input type="checkbox" data-testid="pick-run" checked=${picked.includes(run.id)} onChange=${() => toggle(run)}
              aria-label=${`Select the run of ${formatDateTime(run.createdAt)} (${shortId(run.id)}) for comparison`} /></td>
            <th scope="row"><a href=${`/runs/${encodeURIComponent(run.id)}`}>${formatDateTime(run.createdAt)}<span class="muted"> · ${shortId(run.id)}</span></a>
              ${run.id === baselineRunId ? html` <span class="badge">baseline</span>` : null}</th>
            <td><${StatusBadge} status=${run.status} /></td>
            <td><${ResultBadge} result=${run.result} /></td>
            <td><a href=${`${base}?revision=${run.revisionNumber}`}>${run.revisionNumber}</a></td>
            <td>${run.targetUsers}</td>
            <td>${formatSeconds(run.durationSeconds)}</td>
            <td>${run.workers}</td>
            <td><${RunOrigin} run=${run} short=${true} /></td>
          </tr>`)}
      </tbody>
    </table>`;
}

function StartRunForm({ test }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // One key per submission attempt: resubmitting the same form cannot start a second run; any
  // edit makes it a new request with a new key.
  const key = useRef(newIdempotencyKey());

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const run = await startRun(test.id, readForm(event.currentTarget), key.current);
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return html`
    <section class="card" aria-labelledby="start-run-heading">
      <h2 id="start-run-heading">Start a run</h2>
      <form class="grid-form" onSubmit=${submit} onInput=${() => (key.current = newIdempotencyKey())}>
        <label>Users <input name="targetUsers" type="number" min="1" max="100000" placeholder=${test.defaultUsers ?? 'API default'} /></label>
        <label>Spawn rate (users/s) <input name="spawnRate" type="number" min="0.01" step="any" placeholder=${test.defaultSpawnRate ?? 'API default'} /></label>
        <label>Duration (s) <input name="durationSeconds" type="number" min="1" max="86400" placeholder=${test.defaultDurationSeconds ?? 'API default'} /></label>
        <label>Workers <input name="workers" type="number" min="1" max="64" placeholder="1" /></label>
        <label>Revision <input name="revision" type="number" min="1" max=${test.latestRevisionNumber} placeholder=${`${test.latestRevisionNumber} (latest)`} /></label>
        <label>Target URL <input name="targetUrl" type="url" placeholder=${test.targetUrl ?? 'required: the test has none'} /></label>
        <${ErrorMessage} error=${error} title="The run did not start" />
        <div><button type="submit" data-testid="start-run" disabled=${busy}>Start run</button></div>
      </form>
    </section>`;
}

