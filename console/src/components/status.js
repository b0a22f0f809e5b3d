// A run's lifecycle status and its result, always as words (colour only reinforces them).
import { html } from '../../vendor/preact.js';

export const FINAL_STATUSES = new Set(['Finished', 'Failed', 'Cancelled']);

export function StatusBadge({ status, testId }) {
  return html`<span class=${`badge status-${status?.toLowerCase()}`} data-testid=${testId}>${status}</span>`;
}

export function ResultBadge({ result, testId }) {
  return html`<span class=${`badge result-${result?.toLowerCase()}`} data-testid=${testId}>${result === 'NotEvaluated' ? 'Not evaluated' : result}</span>`;
}
