// The tabs of one test, each its own URL: script and files, its history, runs and trends, its
// gates, automation and settings. An ARIA tablist of links: Left/Right (and Home/End) move the
// focus along the tabs, Enter or Space opens the focused one; the panel below is the page's content.
import { html, useEffect, useRef } from '../../vendor/preact.js';

export const TABS = [
  { id: 'script', suffix: '', label: 'Script' },
  { id: 'history', suffix: '/history', label: 'History' },
  { id: 'runs', suffix: '/runs', label: 'Runs' },
  { id: 'trends', suffix: '/trends', label: 'Trends' },
  { id: 'gates', suffix: '/gates', label: 'Gates' },
  { id: 'automation', suffix: '/automation', label: 'Automation' },
  { id: 'settings', suffix: '/settings', label: 'Settings' },
];
const STEPS = { ArrowRight: 1, ArrowLeft: -1 };

// The tab opened from the keyboard or a click keeps the focus on the page it opens (a page of its
// own remounts this component, and its heading would take the focus otherwise).
let openedTab = null;

export const testTabUrl = (testId, tab) => `/tests/${encodeURIComponent(testId)}${TABS.find((t) => t.id === tab)?.suffix ?? ''}`;

/** The tablist, then `children` as the selected tab's panel. */
export function TestNav({ testId, current, children }) {
  const list = useRef();
  useEffect(() => {
    if (openedTab === current) list.current?.querySelector('[aria-selected="true"]')?.focus();
    openedTab = null;
  }, [current]);

  function onKeyDown(event) {
    const tabs = [...list.current.querySelectorAll('[role="tab"]')];
    const at = tabs.indexOf(document.activeElement);
    let next = null;
    if (event.key in STEPS) next = (at + STEPS[event.key] + tabs.length) % tabs.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = tabs.length - 1;
    else if (event.key === ' ' && at >= 0) {
      event.preventDefault();
      tabs[at].click(); // a link opens on Enter by itself; Space opens a tab too
      return;
    }
    if (next === null) return;
    event.preventDefault();
    tabs[next].focus();
  }

  return html`
    <nav class="tabs" aria-label="This test">
      <div role="tablist" aria-label="Test pages" ref=${list} onKeyDown=${onKeyDown} data-testid="test-tabs">
        ${TABS.map((tab) => {
          const selected = tab.id === current;
          return html`
            <a role="tab" id=${`test-tab-${tab.id}`} href=${testTabUrl(testId, tab.id)} aria-selected=${String(selected)}
              aria-controls=${selected ? 'test-panel' : undefined} tabindex=${selected ? 0 : -1}
              onClick=${() => { if (!selected) openedTab = tab.id; }}>${tab.label}</a>`;
        })}
      </div>
    </nav>
    <div role="tabpanel" id="test-panel" aria-labelledby=${`test-tab-${current}`} data-testid="test-panel" data-tab=${current}>
      ${children}
    </div>`;
}

/** "← tests / checkout": where this page sits, and the way back. */
export function TestBreadcrumb({ test, testId }) {
  return html`
    <p class="breadcrumb"><a href="/tests">Tests</a> / <a href=${`/tests/${encodeURIComponent(testId)}`}>${test?.name ?? testId}</a></p>`;
}
