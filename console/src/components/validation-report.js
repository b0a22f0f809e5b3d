// The API's validation report under the editor: each error with its file, line and column (a button
// that opens the file and moves the cursor there), the warnings and notes, and the Locust classes it found.
import { html } from '../../vendor/preact.js';

export function ValidationReport({ report, problems, checking, onGoTo, showFiles = false }) {
  return html`
    <div class="validation" aria-live="polite">
      ${checking ? html`<p class="muted">Checking…</p>` : null}
      ${problems.length ? html`
        <ul class="problems">
          ${problems.map((problem) => html`
            <li data-testid="validation-error" data-file=${problem.file ?? ''} data-line=${problem.line ?? ''} data-column=${problem.column ?? ''} class="problem">
              ${showFiles && problem.file ? html`<code>${problem.file}</code> ` : null}
              ${problem.line != null
                ? html`<button type="button" class="link" onClick=${() => onGoTo(problem)}>
                    Line ${problem.line}, column ${problem.column ?? '?'}</button>: `
                : null}
              ${problem.message}
            </li>`)}
        </ul>` : null}
      ${report?.valid && !problems.length ? html`
        <p class="valid">Valid. User classes: ${report.userClasses.join(', ') || '—'}${report.shapes.length ? `; load shapes: ${report.shapes.join(', ')}` : ''}.</p>` : null}
      ${report?.warnings?.length ? html`
        <ul class="warnings" aria-label="Warnings">${report.warnings.map((warning) => html`<li>${warning}</li>`)}</ul>` : null}
      ${report?.notes?.length ? html`
        <ul class="notes muted" aria-label="Notes">${report.notes.map((note) => html`<li>${note}</li>`)}</ul>` : null}
    </div>`;
}
