// The frame around every page: a skip link, the site navigation, and the main landmark.
import { html } from '../../vendor/preact.js';
import { may } from '../access.js';
import { Account } from './account.js';

// `route`: the API route the section's page reads; a caller who may not is not shown the section.
const SECTIONS = [
  { href: '/tests', label: 'Tests', active: (path) => path.startsWith('/tests') || path.startsWith('/runs') },
  { href: '/clusters', label: 'Clusters', active: (path) => path.startsWith('/clusters') },
  { href: '/variables', label: 'Variables', active: (path) => path.startsWith('/variables') },
  { href: '/notifications', label: 'Notifications', active: (path) => path.startsWith('/notifications') },
  { href: '/tokens', label: 'API tokens', route: 'GET /v1/tokens', active: (path) => path.startsWith('/tokens') },
  { href: '/audit', label: 'Audit log', route: 'GET /v1/audit', active: (path) => path.startsWith('/audit') },
];

export function Shell({ pathname, children }) {
  return html`
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="site-header">
      <a class="brand" href="/tests">Load Manager</a>
      <nav aria-label="Sections">
        <ul>
          ${SECTIONS.filter((section) => !section.route || may(section.route)).map((section) => html`
            <li><a href=${section.href} aria-current=${section.active(pathname) ? 'page' : undefined}>${section.label}</a></li>
          `)}
        </ul>
      </nav>
      <${Account} />
    </header>
    <main id="main" tabindex="-1">${children}</main>
  `;
}
