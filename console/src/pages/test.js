// /tests/{id} and its tabs, each its own URL:
// - script (`/tests/{id}`, `/tests/{id}/script`): the bundle editor on the latest revision (or
//   `?revision=N`), every file a tab, validated as you type and on save by POST /v1/scripts/validate,
//   saved with a description as a new revision;
// - gates (`/gates`): pass/fail criteria, auto-stop and the baseline run;
// - automation (`/automation`): runs without a human, event triggers and schedules, and where the
//   end of its runs is announced (its notification channels);
// - settings (`/settings`): the test's metadata, its load shape (default load profile, data split), and deleting it.
// One page holds the four (routes.js keys it by test): the test is read once, a tab's content is
// loaded on its first visit and kept while another tab is shown, so unsaved edits survive a switch.
// `/tests/{id}#automation` (and #gates, #settings: the anchors of the page before it had tabs) opens that tab.
import { html, useEffect, useRef, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { deleteTest, getRevision, getTest, latestScript } from '../api.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { BaselinePicker } from '../components/baseline-picker.js';
import { BundleEditor } from '../components/bundle-editor.js';
import { AutoStopEditor, CriteriaEditor } from '../components/criteria-editor.js';
import { LoadShape } from '../components/load-shape.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { NotificationChannels } from '../components/notification-channels.js';
import { PageHeading } from '../components/page-heading.js';
import { Schedules } from '../components/schedules.js';
import { TestBreadcrumb, TestNav, testTabUrl } from '../components/test-nav.js';
import { TestSettings } from '../components/test-settings.js';
import { Triggers } from '../components/triggers.js';

const PANELS = { script: ScriptPanel, gates: GatesPanel, automation: AutomationPanel, settings: SettingsPanel };
const TITLES = { script: '', gates: ': gates', automation: ': automation', settings: ': settings' };

export default function TestPage({ params, query }) {
  const { testId, tab } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const visited = useVisited(tab);
  useTabFromHash(testId, tab);
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${test.data ? test.data.name + TITLES[tab] : 'Load test'}>${test.data ? test.data.name : 'Load test'}</${PageHeading}>
    <${TestNav} testId=${testId} current=${tab}>
      <${ErrorMessage} error=${test.error} title="Could not load the test" />
      ${test.data ? Object.entries(PANELS).filter(([name]) => visited.has(name)).map(([name, Panel]) => html`
        <div key=${name} hidden=${name !== tab} data-testid=${`${name}-tab`}>
          <${Panel} test=${test} query=${query} />
        </div>`)
        : !test.error && html`<${Loading} what="Loading the test" />`}
    </${TestNav}>`;
}

/** The tabs shown so far: their content stays mounted (hidden) when another tab is shown. */
function useVisited(tab) {
  const visited = useRef(new Set());
  visited.current.add(tab);
  return visited.current;
}

/** `/tests/{id}#automation` (where links from before the tabs point) opens the automation tab. */
function useTabFromHash(testId, tab) {
  const named = window.location.hash.slice(1);
  useEffect(() => {
    if (tab === 'script' && named !== 'script' && named in PANELS) navigate(testTabUrl(testId, named), { replace: true });
  }, [tab, named]);
}

function ScriptPanel({ test, query }) {
  const revision = useApi(
    () => (query.revision ? getRevision(test.data.id, query.revision) : latestScript(test.data.id)),
    [test.data.id, query.revision],
  );
  const saved = (rev) => test.setData({
    ...test.data, latestRevisionNumber: Math.max(rev.revisionNumber, test.data.latestRevisionNumber), latestRevisionId: rev.id,
  });
  return html`
    <${ErrorMessage} error=${revision.error} title="Could not load the script" />
    ${revision.data
      ? html`<${BundleEditor} key=${revision.data.id} test=${test.data} revision=${revision.data} onSaved=${saved} />`
      : !revision.error && html`<${Loading} what="Loading the script" />`}`;
}

function GatesPanel({ test }) {
  return html`
    <section class="card" aria-labelledby="gates-heading" id="gates">
      <h2 id="gates-heading">Pass/fail gates</h2>
      <${CriteriaEditor} test=${test.data} onSaved=${test.setData} />
      <${AutoStopEditor} test=${test.data} onSaved=${test.setData} />
      <${BaselinePicker} test=${test.data} onSaved=${test.setData} />
    </section>`;
}

function AutomationPanel({ test }) {
  return html`
    <section class="card" aria-labelledby="automation-heading" id="automation">
      <h2 id="automation-heading">Runs without a human</h2>
      <${Triggers} test=${test.data} />
      <${Schedules} test=${test.data} />
    </section>
    <${NotificationChannels} test=${test.data} />`;
}

function SettingsPanel({ test }) {
  return html`
    <section class="card" aria-labelledby="settings-heading" id="settings">
      <h2 id="settings-heading">Settings</h2>
      <${TestSettings} test=${test.data} onSaved=${test.setData} />
      <${LoadShape} test=${test.data} onSaved=${test.setData} />
      ${may('DELETE /v1/load-tests/{testId}') ? html`<${DeleteTest} test=${test.data} />` : null}
    </section>`;
}

function DeleteTest({ test }) {
  const [error, setError] = useState(null);
  async function remove() {
    if (!window.confirm(`Delete the test "${test.name}"? Its triggers, schedules and own variables, secrets and notification channels go with it; its revisions are kept for the runs that used them.`)) return;
    try {
      await deleteTest(test.id);
      navigate('/tests');
    } catch (failure) {
      setError(failure);
    }
  }
  return html`
    <div class="danger-zone">
      <button type="button" class="danger" data-testid="delete-test" onClick=${remove}>Delete this test</button>
      <${ErrorMessage} error=${error} title="Not deleted" />
    </div>`;
}
