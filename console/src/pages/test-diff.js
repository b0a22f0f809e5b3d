// /tests/{id}/diff?from=&to= — two revisions side by side, one view per changed file of the bundle
// (added, removed, modified; binary files flagged, never diffed), with the API's diff summary and
// its unified diff as text (every file's, the entry's from the top-level `unifiedDiff`).
import { html } from '../../vendor/preact.js';
import { diffRevisions, getRevision, getRevisionFile, getTest } from '../api.js';
import { decodeBase64 } from '../base64.js';
import { isPython } from '../bundle.js';
import { useApi } from '../hooks.js';
import { navigate } from '../router.js';
import { SideBySideDiff } from '../components/diff-view.js';
import { fileDiffText } from '../components/unified-diff.js';
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
    <${TestNav} testId=${testId} current="history">
    <${RevisionPicker} testId=${testId} from=${from} to=${to} latest=${test.data?.latestRevisionNumber} />
    <${ErrorMessage} error=${diff.error} title="Could not load the diff" />
    ${!from || !to ? html`<p>Pick the two revisions to compare.</p>`
      : diff.loading && !diff.data ? html`<${Loading} what="Loading the diff" />`
      : diff.data ? html`<${DiffResult} testId=${testId} ...${diff.data} />` : null}
    </${TestNav}>`;
}

function DiffResult({ testId, summary, before, after }) {
  const a = `Revision ${before.revisionNumber}`;
  const b = `Revision ${after.revisionNumber}`;
  // Every changed file of the bundle, as the API lists them (unchanged files are left out).
  const files = summary.files ?? [];
  return html`
    <p class="diff-summary">
      <span class="added">+${summary.addedLines}</span> <span class="removed">−${summary.removedLines}</span> lines
      in ${files.length} file${files.length === 1 ? '' : 's'}.
      ${' '}${a}: <q>${before.description}</q> by ${before.createdBy}. ${b}: <q>${after.description}</q> by ${after.createdBy}.
    </p>
    ${files.length ? html`<nav aria-label="Changed files"><ul class="plain file-index">${files.map((file) => html`
      <li><a href=${`#file-${encodeURIComponent(file.path)}`}>${file.path}</a> <span class=${`badge change-${file.change}`}>${file.change}</span>${file.binary ? ' (binary)' : ''}</li>`)}
      </ul></nav>` : html`<p>The two revisions are identical.</p>`}
    ${files.map((file) => html`<${FileDiff} key=${file.path} testId=${testId} file=${file} before=${before} after=${after} />`)}
    <details class="unified">
      <summary>Unified diff</summary>
      <pre>${files.map((file) => fileDiffText(file, summary)).join('') || '(identical)'}</pre>
      ${summary.truncated ? html`<p class="muted" data-testid="diff-truncated">Some files' diffs are cut to fit one answer: ${files.filter((f) => f.truncated).map((f) => f.path).join(', ')}. Their changes are all shown side by side above.</p>` : null}
    </details>`;
}

/** One file side by side: its text in both revisions (an added file is empty before, a removed one after). */
function FileDiff({ testId, file, before, after }) {
  const contents = useApi(async () => {
    if (file.binary) return null;
    const read = (revision) => getRevisionFile(testId, revision.revisionNumber, file.path).then((f) => decodeBase64(f.content));
    return Promise.all([file.change === 'added' ? '' : read(before), file.change === 'removed' ? '' : read(after)]);
  }, [file.path, before.id, after.id]);
  const a = `Revision ${before.revisionNumber}`;
  const b = `Revision ${after.revisionNumber}`;
  return html`
    <section class="file-diff" id=${`file-${encodeURIComponent(file.path)}`} data-testid="diff-file" data-path=${file.path}
      data-change=${file.change} data-binary=${String(file.binary)} aria-label=${`${file.path}: ${file.change}`}>
      <h2><code>${file.path}</code> <span class=${`badge change-${file.change}`}>${file.change}</span>
        ${file.binary ? html` <span class="badge">binary</span>` : html` <span class="added">+${file.addedLines}</span> <span class="removed">−${file.removedLines}</span>`}</h2>
      ${file.binary ? html`<p class="muted" data-testid="binary-flag">Binary file: not diffed. sha256 ${file.fromSha256?.slice(0, 12) ?? '(none)'} → ${file.toSha256?.slice(0, 12) ?? '(none)'}.</p>`
        : contents.error ? html`<${ErrorMessage} error=${contents.error} title=${`Could not load ${file.path}`} />`
        : contents.data ? html`
          <div class="diff-labels" aria-hidden="true"><span>${a}</span><span>${b}</span></div>
          <${SideBySideDiff} before=${contents.data[0]} after=${contents.data[1]} python=${isPython(file.path)}
            beforeLabel=${`${file.path}, ${a} (before)`} afterLabel=${`${file.path}, ${b} (after)`} />`
        : html`<${Loading} what=${`Loading ${file.path}`} />`}
    </section>`;
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
