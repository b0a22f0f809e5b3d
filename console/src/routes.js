// Every page of the console and its URL. Pages are loaded on first visit, so a page's code (and
// CodeMirror, which only the editing pages import) is fetched only where it is used.
export const routes = [
  { path: '/', redirect: '/tests' },
  { path: '/tests', page: () => import('./pages/tests.js') },
  { path: '/tests/:testId', page: () => import('./pages/test-script.js') },
  { path: '/tests/:testId/history', page: () => import('./pages/test-history.js') },
  { path: '/tests/:testId/diff', page: () => import('./pages/test-diff.js') },
  { path: '/tests/:testId/runs', page: () => import('./pages/test-runs.js') },
  { path: '/tests/:testId/trends', page: () => import('./pages/test-trends.js') },
  { path: '/runs/compare', page: () => import('./pages/run-compare.js') }, // before /runs/:runId
  { path: '/runs/:runId', page: () => import('./pages/run.js') },
  { path: '/clusters', page: () => import('./pages/clusters.js') },
];
