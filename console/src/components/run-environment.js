// The variables and secrets a run's Locust processes got, as the run records them: a variable with
// its value, a secret with its version only (its value is never answered), each with the scope level
// it came from.
import { html } from '../../vendor/preact.js';

export function RunEnvironment({ run }) {
  const variables = run.variables ?? [];
  const secrets = run.secrets ?? [];
  return html`
    <ul class="plain" data-testid="run-environment">
      ${variables.map((v) => html`<li key=${`v-${v.name}`}><code>${v.name}=${v.value}</code> <span class="muted">(${v.level})</span></li>`)}
      ${secrets.map((s) => html`
        <li key=${`s-${s.name}`} data-secret=${s.name}><code>${s.name}</code> <span class="muted">(secret, ${s.level}, version ${s.version})</span></li>`)}
    </ul>`;
}
