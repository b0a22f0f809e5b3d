// What a page says instead of its content when the caller's role may not read it (access.js): the
// API would answer 403 `Forbidden`; this says the same before asking.
import { html } from '../../vendor/preact.js';
import { currentCaller, roleFor } from '../access.js';

export function RoleNeeded({ route, what }) {
  return html`
    <p class="notice" role="status" data-testid="role-needed" data-role=${roleFor(route)}>
      ${what} need the <strong>${roleFor(route)}</strong> role; yours is <strong>${currentCaller()?.role}</strong>.
      An administrator of your account can change that.
    </p>`;
}
