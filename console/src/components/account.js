// Who is calling, with their role (GET /v1/me), and the way out when the console signs in.
import { html } from '../../vendor/preact.js';
import { currentCaller } from '../access.js';
import { currentUser, signInConfigured, signOut } from '../auth.js';

export function Account() {
  const user = currentUser();
  const caller = currentCaller();
  if (!user && !caller) return null;
  const who = user ? user.email || user.subject : caller.email || caller.subject;
  return html`
    <div class="account">
      <span data-testid="signed-in-user">${who}</span>
      ${caller ? html`<span class="role" data-testid="signed-in-role" data-role=${caller.role}
        title=${caller.tokenId ? 'the role of this API token' : 'your role in this account'}>${caller.role}</span>` : null}
      ${signInConfigured() ? html`<button type="button" class="link" data-testid="sign-out" onClick=${() => signOut()}>Sign out</button>` : null}
    </div>`;
}
