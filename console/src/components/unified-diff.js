// A unified diff as the API wrote it, one line per row, added and removed lines marked by more than
// colour (the +/- the diff already carries stays visible). No CodeMirror: the compare page uses it.
import { html } from '../../vendor/preact.js';

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

/** One file of the API's diff (`FileDiff`): its change, line counts, and its unified diff (binary: flagged). */
export function FileChange({ file }) {
  return html`
    <div class="file-change" data-testid="diff-file" data-path=${file.path} data-change=${file.change} data-binary=${String(file.binary)}>
      <h3><code>${file.path}</code> <span class=${`badge change-${file.change}`}>${file.change}</span>
        ${file.binary ? html` <span class="badge">binary</span>` : html` <span class="added">+${file.addedLines}</span> <span class="removed">−${file.removedLines}</span>`}</h3>
      ${file.binary ? html`<p class="muted">Binary file: not diffed${file.fromSha256 ? ` (sha256 ${file.fromSha256.slice(0, 12)}` : ' ('}${file.fromSha256 && file.toSha256 ? ' → ' : ''}${file.toSha256 ? `sha256 ${file.toSha256.slice(0, 12)})` : ')'}.</p>`
        : html`<${UnifiedDiff} text=${file.unifiedDiff} label=${`Changes to ${file.path}`} />`}
    </div>`;
}
