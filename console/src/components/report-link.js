// A link to one of the API's report pages (whole pages, sandboxed by the API), in a new tab.
// Without sign-in a plain link. With sign-in a new tab carries no token, so a click opens the window
// at once (in the click, or a popup blocker stops it), asks the API where the page is
// (`?format=link`, with the token: in AWS a short-lived presigned URL), then sends the window there.
import { html, useState } from '../../vendor/preact.js';
import { apiUrl, reportLink } from '../api.js';
import { signInConfigured } from '../auth.js';

export function ReportLink({ path, query, children }) {
  const [error, setError] = useState(null);
  const href = apiUrl(path, query).href;
  const label = html`${children}<span class="visually-hidden"> (opens in a new tab)</span>`;
  if (!signInConfigured()) return html`<a href=${href} target="_blank" rel="noopener">${label}</a>`;
  const open = async (event) => {
    event.preventDefault();
    setError(null);
    const tab = window.open('', '_blank');
    if (!tab) {
      setError('The browser blocked the new tab; allow pop-ups for this site and try again.');
      return;
    }
    tab.opener = null; // the page must not reach back into the console
    try {
      const { url } = await reportLink(path, query);
      tab.location.href = new URL(url, href).href; // locally the page's own API path
    } catch (failure) {
      tab.close();
      setError(`Cannot open the report: ${failure.message}`);
    }
  };
  return html`<a href=${href} target="_blank" rel="noopener" onClick=${open}>${label}</a>${error
    ? html` <span class="error-text" role="alert" data-testid="report-link-error">${error}</span>` : null}`;
}
