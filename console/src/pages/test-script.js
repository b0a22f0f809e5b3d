// /tests/{id} — the script editor on the latest revision (or `?revision=N`): validated as you type
// and on save by POST /v1/scripts/validate, saved with a description as a new revision; then the
// test's settings.
import { html, useEffect, useMemo, useRef, useState } from '../../vendor/preact.js';
import { deleteTest, getRevision, getTest, latestScript, saveScript, validateScript } from '../api.js';
import { decodeBase64, encodeBase64 } from '../base64.js';
import { formatDateTime } from '../format.js';
import { useApi, useDebouncedCallback } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading, Notice, Upcoming } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { ScriptEditor } from '../components/script-editor.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';
import { TestSettings } from '../components/test-settings.js';
import { ValidationReport } from '../components/validation-report.js';

const VALIDATE_AFTER_MS = 600;

export default function TestScriptPage({ params, query }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const revision = useApi(
    () => (query.revision ? getRevision(testId, query.revision) : latestScript(testId)),
    [testId, query.revision],
  );
  const title = test.data ? test.data.name : 'Load test';
  // TODO(issue-7): criteria and baseline editing replaces the first Upcoming below.
  // TODO(issue-8): the test's triggers and schedules replace the second.
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${title} />
    <${TestNav} testId=${testId} current="" />
    <${ErrorMessage} error=${test.error || revision.error} title="Could not load the script" />
    ${revision.data && test.data
      ? html`<${ScriptSection} key=${revision.data.id} test=${test.data} revision=${revision.data}
          onSaved=${(saved) => test.setData({ ...test.data, latestRevisionNumber: saved.revisionNumber, latestRevisionId: saved.id })} />`
      : !revision.error && html`<${Loading} what="Loading the script" />`}
    ${test.data ? html`
      <section class="card" aria-labelledby="settings-heading">
        <h2 id="settings-heading">Settings</h2>
        <${TestSettings} test=${test.data} onSaved=${test.setData} />
        <${DeleteTest} test=${test.data} />
      </section>
      <${Upcoming} title="Pass/fail criteria and baseline" issue="7">
        Thresholds, the maximum regression against a baseline run, and the baseline itself are set here once the results API has them.
      </${Upcoming}>
      <${Upcoming} title="Triggers and schedules" issue="8">
        Event-triggered and scheduled runs of this test will be listed and edited here.
      </${Upcoming}>` : null}`;
}

function ScriptSection({ test, revision, onSaved }) {
  const initialText = useMemo(() => decodeBase64(revision.scriptContent), [revision]);
  const [text, setText] = useState(initialText);
  const [validation, setValidation] = useState({ report: null, error: null, checking: false });
  const [saved, setSaved] = useState({ revision, message: null, error: null, busy: false });
  const editor = useRef();
  const checks = useRef(0);

  async function validate(content) {
    const mine = ++checks.current;
    setValidation((previous) => ({ ...previous, checking: true }));
    try {
      const report = await validateScript(encodeBase64(content));
      if (mine === checks.current) setValidation({ report, error: null, checking: false });
      return report;
    } catch (error) {
      if (mine === checks.current) setValidation({ report: null, error, checking: false });
      return null;
    }
  }
  const validateSoon = useDebouncedCallback(validate, VALIDATE_AFTER_MS);
  useEffect(() => {
    validate(initialText); // the report (user classes, warnings) of what was loaded
  }, []);

  function edited(content) {
    setText(content);
    setSaved((previous) => ({ ...previous, message: null, error: null }));
    validateSoon(content);
  }

  async function save(event) {
    event.preventDefault();
    const form = event.currentTarget;
    setSaved((previous) => ({ ...previous, busy: true, message: null, error: null }));
    const report = await validate(text);
    if (!report?.valid) return setSaved((previous) => ({ ...previous, busy: false }));
    try {
      const result = await saveScript(test.id, encodeBase64(text), form.elements.description.value.trim());
      form.reset();
      onSaved(result.revision);
      setSaved({
        revision: result.revision,
        busy: false,
        error: null,
        message: result.created
          ? `Saved as revision ${result.revision.revisionNumber}.`
          : `No change: identical to revision ${result.revision.revisionNumber}, so no revision was created.`,
      });
    } catch (error) {
      setSaved((previous) => ({ ...previous, busy: false, error }));
    }
  }

  // Errors from the live check, or from the save itself (a 422 names its line and column too).
  const problems = validation.report?.errors ?? (saved.error?.details?.line != null ? [saved.error.details] : []);
  const shown = saved.revision;
  const dirty = text !== initialText;
  // TODO(issue-9): a bundle's other files (helper modules, data, requirements.txt) get tabs next to
  // the locustfile here, each its own ScriptEditor, saved together as one revision.
  return html`
    <section class="card" aria-labelledby="script-heading">
      <h2 id="script-heading">Script</h2>
      <${RevisionLine} test=${test} revision=${shown} dirty=${dirty} />
      <${ScriptEditor} initialText=${initialText} onChange=${edited} problems=${problems}
        label=${`Locust script of ${test.name}`} control=${editor} />
      <${ValidationReport} report=${validation.report} problems=${problems} checking=${validation.checking}
        onGoTo=${(line, column) => editor.current?.focusAt(line, column)} />
      <${ErrorMessage} error=${validation.error} title="Validation failed" />
      <form class="inline-form" onSubmit=${save}>
        <label>What changed <input name="description" maxlength="2000" placeholder="e.g. more browsing, fewer checkouts" /></label>
        <button type="submit" data-testid="save-revision" disabled=${saved.busy}>Save as new revision</button>
      </form>
      <${ErrorMessage} error=${saved.error?.details?.line != null ? null : saved.error} title="Not saved" />
      ${saved.message ? html`<${Notice}>${saved.message}</${Notice}>` : null}
    </section>`;
}

function RevisionLine({ test, revision, dirty }) {
  const base = `/tests/${encodeURIComponent(test.id)}`;
  const latest = revision.revisionNumber === test.latestRevisionNumber;
  return html`
    <p class="revision-line">
      <strong>Revision ${revision.revisionNumber}</strong>${latest ? ' (latest)' : ''} by ${revision.createdBy},
      ${' '}${formatDateTime(revision.createdAt)}${revision.description ? html` — <q>${revision.description}</q>` : null}
      ${dirty ? html` · <em>unsaved changes</em>` : null}
      ${!latest ? html`<br />You are viewing an older revision: saving creates revision ${test.latestRevisionNumber + 1} with this content.
        ${' '}<a href=${base}>Open the latest</a>.` : null}
    </p>`;
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
