// /tests/{id}/history — every revision, newest first: number, author, time, description; view one,
// diff two, or roll back (a NEW revision with an older one's content: history is never rewritten).
import { html, useState } from '../../vendor/preact.js';
import { may } from '../access.js';
import { getTest, listRevisions, rollback } from '../api.js';
import { formatDateTime } from '../format.js';
import { useApi, usePaged } from '../hooks.js';
import { navigate } from '../router.js';
import { ErrorMessage, Loading, Notice } from '../components/messages.js';
import { LoadMore } from '../components/more.js';
import { PageHeading } from '../components/page-heading.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';

export default function TestHistoryPage({ params }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  const revisions = usePaged((cursor) => listRevisions(testId, { limit: 50, cursor }), [testId]);
  const [outcome, setOutcome] = useState({ message: null, error: null });

  async function rollBackTo(number) {
    setOutcome({ message: null, error: null });
    try {
      const result = await rollback(testId, number);
      setOutcome({
        message: result.created
          ? `Revision ${result.revision.revisionNumber} restores revision ${number}.`
          : `Revision ${number} is identical to the latest: no revision was created.`,
        error: null,
      });
      test.reload();
      revisions.reload();
    } catch (error) {
      setOutcome({ message: null, error });
    }
  }

  const latest = test.data?.latestRevisionNumber;
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${test.data ? `${test.data.name}: history` : 'Revision history'} />
    <${TestNav} testId=${testId} current="history">
    <${ErrorMessage} error=${test.error || revisions.error} title="Could not load the history" />
    <${ErrorMessage} error=${outcome.error} title="Not rolled back" />
    ${outcome.message ? html`<${Notice}>${outcome.message}</${Notice}>` : null}
    ${revisions.loading && !revisions.items.length ? html`<${Loading} what="Loading revisions" />` : html`
      <table class="listing" data-testid="revision-history">
        <caption class="visually-hidden">Revisions, newest first</caption>
        <thead><tr>
          <th scope="col">Revision</th><th scope="col">Author</th><th scope="col">Time</th>
          <th scope="col">Description</th><th scope="col">Actions</th>
        </tr></thead>
        <tbody>
          ${revisions.items.map((revision) => html`
            <${RevisionRow} key=${revision.id} testId=${testId} revision=${revision} latest=${latest} onRollback=${rollBackTo} />`)}
        </tbody>
      </table>`}
    <${LoadMore} paged=${revisions} what="revisions" />
    ${latest > 1 ? html`<${CompareForm} testId=${testId} latest=${latest} />` : null}
    </${TestNav}>`;
}

function RevisionRow({ testId, revision, latest, onRollback }) {
  const base = `/tests/${encodeURIComponent(testId)}`;
  const n = revision.revisionNumber;
  return html`
    <tr data-testid="revision-row" data-revision=${n}>
      <th scope="row">${n}${n === latest ? html` <span class="badge">latest</span>` : null}</th>
      <td>${revision.createdBy}</td>
      <td>${formatDateTime(revision.createdAt)}</td>
      <td>${revision.description}${revision.rolledBackFrom ? html` <span class="muted">(restores revision ${revision.rolledBackFrom})</span>` : null}</td>
      <td><div class="actions">
        <a href=${`${base}?revision=${n}`} aria-label=${`View revision ${n}`}>View</a>
        ${n > 1 ? html`<a href=${`${base}/diff?from=${n - 1}&to=${n}`} aria-label=${`Changes in revision ${n}`}>Changes</a>` : null}
        ${latest != null && n !== latest && may('POST /v1/load-tests/{testId}/script/rollback') ? html`
          <button type="button" class="secondary" data-testid="rollback" onClick=${() => onRollback(n)}>Roll back to revision ${n}</button>` : null}
      </div></td>
    </tr>`;
}

function CompareForm({ testId, latest }) {
  function submit(event) {
    event.preventDefault();
    const { from, to } = event.currentTarget.elements;
    navigate(`/tests/${encodeURIComponent(testId)}/diff?from=${from.value}&to=${to.value}`);
  }
  return html`
    <form class="inline-form card" onSubmit=${submit} aria-label="Compare two revisions">
      <label>From revision <input name="from" type="number" min="1" max=${latest} defaultValue=${latest - 1} required /></label>
      <label>To revision <input name="to" type="number" min="1" max=${latest} defaultValue=${latest} required /></label>
      <button type="submit">Show the diff</button>
    </form>`;
}
