// A unified diff as the API wrote it, one line per row, added and removed lines marked by more than
// colour (the +/- the diff already carries stays visible). No CodeMirror: the compare page uses it.
import { html, useState } from '../../vendor/preact.js';
import { diffRevisions } from '../api.js';
import { ErrorMessage } from './messages.js';

function lineClass(line) {
  if (line.startsWith('+++') || line.startsWith('---')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return '';
}

export function UnifiedDiff({ text, label }) {
  const lines = text.replace(/\n$/, '').split('\n');
  return html`
    <pre class="unified-diff" tabindex="0" aria-label=${label}><code>${lines.map((line) => html`<span class=${lineClass(line)}>${line || ' '}</span>`)}</code></pre>`;
}

/** A file's diff text: its own, or (the entry file, whose item carries null) the diff's top-level one. */
export function fileDiffText(file, diff) {
  return file.unifiedDiff ?? diff?.unifiedDiff ?? '';
}

/** One file of the API's diff (`FileDiff`, within `diff`, the whole `ScriptDiff`): its change, line
 * counts, and its unified diff (binary: flagged). A diff cut to fit the answer says so, and the
 * file's whole diff can be asked for alone (`GET …/script/diff?path=`; cut again, with a note, only
 * when even that would not fit). */
export function FileChange({ file, diff, testId }) {
  const [alone, setAlone] = useState({ loading: false, error: null, answer: null });
  const shown = alone.answer ? alone.answer.files.find((f) => f.path === file.path) ?? file : file;
  const text = fileDiffText(shown, alone.answer ?? diff);
  async function loadWhole() {
    setAlone({ loading: true, error: null, answer: null });
    try {
      setAlone({ loading: false, error: null, answer: await diffRevisions(testId, diff.from.revisionNumber, diff.to.revisionNumber, file.path) });
    } catch (error) {
      setAlone({ loading: false, error, answer: null });
    }
  }
  return html`
    <div class="file-change" data-testid="diff-file" data-path=${file.path} data-change=${file.change} data-binary=${String(file.binary)}>
      <h3><code>${file.path}</code> <span class=${`badge change-${file.change}`}>${file.change}</span>
        ${file.binary ? html` <span class="badge">binary</span>` : html` <span class="added">+${file.addedLines}</span> <span class="removed">−${file.removedLines}</span>`}</h3>
      ${file.binary ? html`<p class="muted">Binary file: not diffed${file.fromSha256 ? ` (sha256 ${file.fromSha256.slice(0, 12)}` : ' ('}${file.fromSha256 && file.toSha256 ? ' → ' : ''}${file.toSha256 ? `sha256 ${file.toSha256.slice(0, 12)})` : ')'}.</p>`
        : html`<${UnifiedDiff} text=${text} label=${`Changes to ${file.path}`} />`}
      ${shown.truncated ? html`
        <p class="muted" data-testid="diff-truncated">Showing the first ${shown.sentBytes.toLocaleString()} of ${shown.diffBytes.toLocaleString()} bytes of this diff.
          ${shown.note ? ` ${shown.note}.` : ''}
          ${!alone.answer && file.fullDiffUrl && testId && diff ? html` <button type="button" class="secondary" disabled=${alone.loading} onClick=${loadWhole}>
            ${alone.loading ? 'Loading…' : 'Load this file’s whole diff'}</button>` : null}</p>` : null}
      <${ErrorMessage} error=${alone.error} title=${`Could not load the diff of ${file.path}`} />
    </div>`;
}
