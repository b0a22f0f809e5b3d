// The tabs of one test's pages; each is its own URL.
import { html } from '../../vendor/preact.js';

const TABS = [
  { suffix: '', label: 'Script' },
  { suffix: '/history', label: 'History' },
  { suffix: '/runs', label: 'Runs' },
  { suffix: '/trends', label: 'Trends' },
];

export function TestNav({ testId, current }) {
  const base = `/tests/${encodeURIComponent(testId)}`;
  return html`
    <nav class="tabs" aria-label="Test pages">
      <ul>
        ${TABS.map((tab) => html`
          <li><a href=${base + tab.suffix} aria-current=${tab.suffix === current ? 'page' : undefined}>${tab.label}</a></li>`)}
      </ul>
    </nav>`;
}

/** "← tests / checkout": where this page sits, and the way back. */
export function TestBreadcrumb({ test, testId }) {
  return html`
    <p class="breadcrumb"><a href="/tests">Tests</a> / <a href=${`/tests/${encodeURIComponent(testId)}`}>${test?.name ?? testId}</a></p>`;
}
