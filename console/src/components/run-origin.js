// What started a run, as the run's `trigger` records it: a caller of the API, an event trigger (the
// event's source and detail-type), or a schedule's occurrence. Runs older than triggers have none.
import { html } from '../../vendor/preact.js';
import { formatDateTime, shortId } from '../format.js';

export function RunOrigin({ run, short = false }) {
  const trigger = run.trigger;
  const automation = `/tests/${encodeURIComponent(run.loadTestId)}/automation`;
  if (trigger?.type === 'event') {
    return html`
      <span data-testid="run-origin" data-origin="event">
        Event trigger <a href=${automation}>${shortId(trigger.triggerId)}</a>: <code>${trigger.source}</code> / <code>${trigger.detailType}</code>
        ${short ? null : html`<span class="muted"> (event ${trigger.eventId})</span>`}
      </span>`;
  }
  if (trigger?.type === 'schedule') {
    return html`
      <span data-testid="run-origin" data-origin="schedule">
        Schedule <a href=${automation}>${shortId(trigger.scheduleId)}</a>, occurrence of ${formatDateTime(trigger.occurrenceAt)}
      </span>`;
  }
  const caller = trigger?.type === 'api' ? trigger.caller : run.createdBy;
  return html`<span data-testid="run-origin" data-origin=${trigger?.type ?? 'unknown'}>${caller}${short ? '' : ' (through the API)'}</span>`;
}
