// /tests/{id}/diff?from=&to= — two revisions side by side, with the API's diff summary (added and
// removed lines, and its unified diff as text).
import { html } from '../../vendor/preact.js';
import { diffRevisions, getRevision, getTest } from '../api.js';
import { decodeBase64 } from '../base64.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { SideBySideDiff } from '../components/diff-view.js';
import { ErrorMessage, Loading } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';

export default function TestDiffPage({ params, query }) {
  const { testId } = params;
  const { from, to } = query;
  const test = useApi(() => getTest(testId), [testId]);
  const diff = useApi(async () => {
    if (!from || !to) return null;
    const [summary, before, after] = await Promise.all([
      diffRevisions(testId, from, to), getRevision(testId, from), getRevision(testId, to),
    ]);
    return { summary, before, after };
  }, [testId, from, to]);

  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${from && to ? `Revision ${from} → revision ${to}` : 'Compare revisions'} />
    <${TestNav} testId=${testId} current="/diff" />
    <${RevisionPicker} testId=${testId} from=${from} to=${to} latest=${test.data?.latestRevisionNumber} />
    <${ErrorMessage} error=${diff.error} title="Could not load the diff" />
    ${!from || !to ? html`<p>Pick the two revisions to compare.</p>`
      : diff.loading && !diff.data ? html`<${Loading} what="Loading the diff" />`
      : diff.data ? html`<${DiffResult} ...${diff.data} />` : null}`;
}

function DiffResult({ summary, before, after }) {
  const a = `Revision ${before.revisionNumber}`;
  const b = `Revision ${after.revisionNumber}`;
  // TODO(issue-9): one side-by-side view per file of the bundle, as the diff API lists them.
  return html`
    <p class="diff-summary">
      <span class="added">+${summary.addedLines}</span> <span class="removed">−${summary.removedLines}</span> lines.
      ${' '}${a}: <q>${before.description}</q> by ${before.createdBy}. ${b}: <q>${after.description}</q> by ${after.createdBy}.
    </p>
    <div class="diff-labels" aria-hidden="true"><span>${a}</span><span>${b}</span></div>
    <${SideBySideDiff} before=${decodeBase64(before.scriptContent)} after=${decodeBase64(after.scriptContent)}
      beforeLabel=${`${a} (before)`} afterLabel=${`${b} (after)`} />
    <details class="unified">
      <summary>Unified diff</summary>
      <pre>${summary.unifiedDiff || '(identical)'}</pre>
    </details>`;
}

function RevisionPicker({ testId, from, to, latest }) {
  function submit(event) {
    event.preventDefault();
    const { from: a, to: b } = event.currentTarget.elements;
    navigate(`/tests/${encodeURIComponent(testId)}/diff?from=${encodeURIComponent(a.value)}&to=${encodeURIComponent(b.value)}`);
  }
  return html`
    <form class="inline-form" onSubmit=${submit} aria-label="Revisions to compare">
      <label>From revision <input name="from" type="number" min="1" max=${latest} defaultValue=${from ?? (latest > 1 ? latest - 1 : '')} required /></label>
      <label>To revision <input name="to" type="number" min="1" max=${latest} defaultValue=${to ?? latest ?? ''} required /></label>
      <button type="submit">Compare</button>
    </form>`;
}
