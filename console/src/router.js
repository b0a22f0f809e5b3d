// History-API routing: every view has its own URL (shareable; back and forward work). The server
// answers index.html for any non-file path, and this module picks the page from the path.
import { useEffect, useState } from '../vendor/preact.js';

const listeners = new Set();

export function currentLocation() {
  const { pathname, search } = window.location;
  return { pathname, search, query: Object.fromEntries(new URLSearchParams(search)) };
}

export function navigate(to, { replace = false } = {}) {
  window.history[replace ? 'replaceState' : 'pushState'](null, '', to);
  notify();
}

function notify() {
  const location = currentLocation();
  listeners.forEach((listener) => listener(location));
}

window.addEventListener('popstate', notify);

export function useLocation() {
  const [location, setLocation] = useState(currentLocation);
  useEffect(() => {
    listeners.add(setLocation);
    return () => listeners.delete(setLocation);
  }, []);
  return location;
}

/** `/tests/:testId/history` matched against a path: the params, or null. */
export function matchPath(pattern, pathname) {
  const names = [];
  const regex = new RegExp(
    '^' + pattern.replace(/:(\w+)/g, (_, name) => (names.push(name), '([^/]+)')) + '/?$',
  );
  const found = regex.exec(pathname);
  if (!found) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
}

/** The first route matching the path; its fixed `params` (e.g. a tab) merged with the path's. */
export function resolveRoute(routes, pathname) {
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params) return { route, params: { ...route.params, ...params } };
  }
  return null;
}

/** Same-origin links navigate in place; new-tab clicks, downloads and other origins are left alone. */
export function interceptLinkClicks(root = document) {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.('a[href]');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    // A link to a place on this very view (#file-…) is the browser's own business: it scrolls there.
    if (url.hash && url.pathname + url.search === window.location.pathname + window.location.search) return;
    event.preventDefault();
    if (url.pathname + url.search !== window.location.pathname + window.location.search) navigate(url.pathname + url.search + url.hash);
  });
}
