// Every page of the console and its URL. Pages are loaded on first visit, so a page's code (and
// CodeMirror, which only the editing pages import) is fetched only where it is used.
//
// A test's own tabs (script and files, gates, automation, settings) are one page module: each tab
// is its own URL, and `key` keeps the page (and what its tabs hold, unsaved edits included) across
// them; another test, or any other page, starts afresh.
const testPage = () => import('./pages/test.js');
const testTab = (tab) => ({ path: `/tests/:testId/${tab}`, page: testPage, params: { tab }, key: ({ testId }) => `test:${testId}` });

export const routes = [
  { path: '/', redirect: '/tests' },
  { path: '/tests', page: () => import('./pages/tests.js') },
  { path: '/tests/:testId', page: testPage, params: { tab: 'script' }, key: ({ testId }) => `test:${testId}` },
  testTab('script'),
  testTab('gates'),
  testTab('automation'),
  testTab('settings'),
  { path: '/tests/:testId/history', page: () => import('./pages/test-history.js') },
  { path: '/tests/:testId/diff', page: () => import('./pages/test-diff.js') },
  { path: '/tests/:testId/runs', page: () => import('./pages/test-runs.js') },
  { path: '/tests/:testId/trends', page: () => import('./pages/test-trends.js') },
  { path: '/runs/compare', page: () => import('./pages/run-compare.js') }, // before /runs/:runId
  { path: '/runs/:runId', page: () => import('./pages/run.js') },
  { path: '/clusters', page: () => import('./pages/clusters.js') },
  { path: '/variables', page: () => import('./pages/variables.js') },
  { path: '/notifications', page: () => import('./pages/notifications.js') },
  { path: '/tokens', page: () => import('./pages/tokens.js') },
  { path: '/audit', page: () => import('./pages/audit.js') },
];
