// /runs/compare?base=&target= — two runs side by side. TODO(issue-7): render the compare API's
// answer here (data-testid "compare-view"): deltas per endpoint, both runs' series overlaid with
// TimeChart, and the script diff between their revisions with SideBySideDiff.
import { html } from '../../vendor/preact.js';
import { shortId } from '../format.js';
import { Upcoming } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';

export default function RunComparePage({ query }) {
  const { base, target } = query;
  return html`
    <${PageHeading} title="Compare runs" />
    ${base && target ? html`
      <p>Base: <a href=${`/runs/${encodeURIComponent(base)}`}>run ${shortId(base)}</a>.
        Target: <a href=${`/runs/${encodeURIComponent(target)}`}>run ${shortId(target)}</a>.</p>` : null}
    <${Upcoming} title="Comparison" issue="7">
      Deltas per endpoint, both runs' series overlaid and the diff of their scripts, once the results API compares runs.
    </${Upcoming}>`;
}
