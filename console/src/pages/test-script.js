// /tests/{id} — the test's page: the bundle editor on the latest revision (or `?revision=N`), every
// file a tab, validated as you type and on save by POST /v1/scripts/validate, saved with a
// description as a new revision; then its gates (criteria, auto-stop, baseline), its runs without a
// human (event triggers and schedules, `#automation`), and its settings.
import { html, useEffect, useState } from '../../vendor/preact.js';
import { deleteTest, getRevision, getTest, latestScript } from '../api.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { BaselinePicker } from '../components/baseline-picker.js';
import { BundleEditor } from '../components/bundle-editor.js';
import { AutoStopEditor, CriteriaEditor } from '../components/criteria-editor.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { Schedules } from '../components/schedules.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';
import { TestSettings } from '../components/test-settings.js';
import { Triggers } from '../components/triggers.js';

export default function TestScriptPage({ params, query }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const revision = useApi(
    () => (query.revision ? getRevision(testId, query.revision) : latestScript(testId)),
    [testId, query.revision],
  );
  const title = test.data ? test.data.name : 'Load test';
  const saved = (rev) => test.setData({ ...test.data, latestRevisionNumber: Math.max(rev.revisionNumber, test.data.latestRevisionNumber), latestRevisionId: rev.id });
  useScrollToHash(test.data);
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${title} />
    <${TestNav} testId=${testId} current="" />
    <${ErrorMessage} error=${test.error || revision.error} title="Could not load the script" />
    ${revision.data && test.data
      ? html`<${BundleEditor} key=${revision.data.id} test=${test.data} revision=${revision.data} onSaved=${saved} />`
      : !revision.error && html`<${Loading} what="Loading the script" />`}
    ${test.data ? html`
      <section class="card" aria-labelledby="gates-heading" id="gates">
        <h2 id="gates-heading">Pass/fail gates</h2>
        <${CriteriaEditor} test=${test.data} onSaved=${test.setData} />
        <${AutoStopEditor} test=${test.data} onSaved=${test.setData} />
        <${BaselinePicker} test=${test.data} onSaved=${test.setData} />
      </section>
      <section class="card" aria-labelledby="automation-heading" id="automation">
        <h2 id="automation-heading">Runs without a human</h2>
        <${Triggers} test=${test.data} />
        <${Schedules} test=${test.data} />
      </section>
      <section class="card" aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <${TestSettings} test=${test.data} onSaved=${test.setData} />
        <${DeleteTest} test=${test.data} />
      </section>` : null}`;
}

/** `/tests/{id}#automation` (where a run's trigger links) scrolls there once the sections exist. */
function useScrollToHash(ready) {
  useEffect(() => {
    if (ready && window.location.hash) document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
  }, [Boolean(ready)]);
}

function DeleteTest({ test }) {
  const [error, setError] = useState(null);
  async function remove() {
    if (!window.confirm(`Delete the test "${test.name}"? Its revisions are kept for the runs that used them.`)) return;
    try {
      await deleteTest(test.id);
      navigate('/tests');
    } catch (failure) {
      setError(failure);
    }
  }
  return html`
    <div class="danger-zone">
      <button type="button" class="danger" onClick=${remove}>Delete this test</button>
      <${ErrorMessage} error=${error} title="Not deleted" />
    </div>`;
}
