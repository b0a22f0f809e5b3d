// Who is signed in, and the way out; nothing at all when the console does not sign in (mode "none").
import { html } from '../../vendor/preact.js';
import { currentUser, signOut } from '../auth.js';

export function Account() {
  const user = currentUser();
  if (!user) return null;
  return html`
    <div class="account">
      <span data-testid="signed-in-user">${user.email || user.subject}</span>
      <button type="button" class="link" data-testid="sign-out" onClick=${() => signOut()}>Sign out</button>
    </div>`;
}
