// Boot: read /config.json, set the API client up, then render the page the URL names.
import { html, render, useEffect, useState } from '../vendor/preact.js';
import { setCaller } from './access.js';
import { configureApi, getMe } from './api.js';
import { configureAuth } from './auth.js';
import { loadConfig } from './config.js';
import { interceptLinkClicks, navigate, resolveRoute, useLocation } from './router.js';
import { routes } from './routes.js';
import { Shell } from './components/shell.js';
import { ErrorMessage, Loading } from './components/messages.js';
import { PageHeading } from './components/page-heading.js';

function App() {
  const location = useLocation();
  const found = resolveRoute(routes, location.pathname);
  // Keyed by the module loader: routes sharing a page module (a test's tabs) switch without a reload.
  const [loaded, setLoaded] = useState({ page: null, Page: null, error: null });
  const wanted = found?.route.page;

  useEffect(() => {
    if (found?.route.redirect) navigate(found.route.redirect, { replace: true });
    else if (wanted && wanted !== loaded.page) {
      wanted().then(
        (module) => setLoaded({ page: wanted, Page: module.default, error: null }),
        (error) => setLoaded({ page: wanted, Page: null, error }),
      );
    }
  }, [wanted]);

  let content;
  if (!found) content = html`<${NotFound} pathname=${location.pathname} />`;
  else if (loaded.page !== wanted) content = html`<${Loading} what="Loading the page" />`;
  else if (loaded.error) content = html`<${ErrorMessage} error=${loaded.error} title="This page failed to load" />`;
  else {
    // Keyed by the whole URL (a page for another id or query starts afresh), or by the route's own
    // key where one page holds several URLs (a test's tabs).
    const { Page } = loaded;
    const key = found.route.key ? found.route.key(found.params) : location.pathname + location.search;
    content = html`<${Page} key=${key} params=${found.params} query=${location.query} />`;
  }
  return html`<${Shell} pathname=${location.pathname}>${content}</${Shell}>`;
}

function NotFound({ pathname }) {
  return html`
    <${PageHeading} title="Page not found" />
    <p>Nothing lives at <code>${pathname}</code>. <a href="/tests">See every test</a>.</p>`;
}

/** GET /v1/me, asked once: what the caller may do (access.js). Without an answer every control shows. */
async function whoAmI() {
  try {
    return await getMe();
  } catch (error) {
    console.warn('GET /v1/me failed: every control is shown, and the API decides', error);
    return null;
  }
}

async function boot() {
  const root = document.getElementById('app');
  try {
    const config = await loadConfig();
    await configureAuth(config.auth); // may leave the page, to sign in
    configureApi(config);
    setCaller(await whoAmI());
  } catch (error) {
    root.textContent = ''; // not "Loading…" under the error
    render(html`
      <main id="main">
        <${ErrorMessage} error=${error} title="The console could not start" />
        <p><a href="/">Open the console again</a></p>
      </main>`, root);
    return;
  }
  interceptLinkClicks();
  root.textContent = '';
  render(html`<${App} />`, root);
}

boot();
