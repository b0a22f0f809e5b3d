// What the user sees while waiting, after an error, or after something went well.
import { html } from '../../vendor/preact.js';

export function Loading({ what = 'Loading' }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

/** An API error as the API worded it: message, code, and line/column or other details. */
export function ErrorMessage({ error, title }) {
  if (!error) return null;
  const details = error.details;
  const position = details && details.line != null ? ` (line ${details.line}, column ${details.column ?? '?'})` : '';
  return html`
    <div class="error" role="alert">
      ${title ? html`<strong>${title}: </strong>` : null}
      <span>${error.message}${position}</span>
      ${error.code ? html` <code class="error-code">${error.code}</code>` : null}
      ${details && !position ? html`
        <details><summary>Details</summary><pre>${JSON.stringify(details, null, 2)}</pre></details>` : null}
    </div>`;
}

export function Notice({ children }) {
  return html`<p class="notice" role="status">${children}</p>`;
}
