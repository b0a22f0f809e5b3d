// /tests/{id}/trends — p95, p99, RPS and failure ratio per run over time, each point labelled by
// its revision. TODO(issue-7): the trends API lands with the results work; render its answer here
// with TimeChart (data-testid "trend-chart"), one point per run.
import { html } from '../../vendor/preact.js';
import { getTest } from '../api.js';
import { useApi } from '../hooks.js';
import { Upcoming } from '../components/messages.js';
import { PageHeading } from '../components/page-heading.js';
import { TestBreadcrumb, TestNav } from '../components/test-nav.js';

export default function TestTrendsPage({ params }) {
  const { testId } = params;
  const test = useApi(() => getTest(testId), [testId]);
  return html`
    <${TestBreadcrumb} test=${test.data} testId=${testId} />
    <${PageHeading} title=${test.data ? `${test.data.name}: trends` : 'Trends'} />
    <${TestNav} testId=${testId} current="/trends" />
    <${Upcoming} title="Trends" issue="7">
      p95, p99, requests per second and failure ratio of every run over time, each point labelled by its revision,
      once the results API serves them.
    </${Upcoming}>`;
}
