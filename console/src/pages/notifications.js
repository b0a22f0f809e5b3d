// /notifications — the notification channels of the account and its scopes (org, project, env):
// where the end of the runs of every test in a scope is announced, on Slack, Microsoft Teams or a
// signed webhook. A test's own channels are on its automation tab (listed here, linked). Any role
// reads them; a scope's channels are changed by admins only (the API's rule, access.js `hasRole`).
import { html } from '../../vendor/preact.js';
import { NotificationChannels } from '../components/notification-channels.js';
import { PageHeading } from '../components/page-heading.js';

export default function NotificationsPage() {
  return html`
    <${PageHeading} title="Notifications" />
    <p>When a run ends, every enabled channel that matches it is told: the test's own channels, and those of its
      environment, project, organisation and account. Messages name the test, the revision, the verdict and the failed criteria.</p>
    <${NotificationChannels} />`;
}
