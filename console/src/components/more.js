import { html } from '../../vendor/preact.js';

/** "Show more" for a cursor-paginated list, when the API says there is more. */
export function LoadMore({ paged, what }) {
  if (!paged.nextCursor) return null;
  return html`<button type="button" class="secondary" onClick=${paged.loadMore} disabled=${paged.loading}>Show more ${what}</button>`;
}
