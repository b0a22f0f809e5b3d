// A run's metric samples for the charts. The only module that knows how they are fetched:
// today GET /v1/runs/{id}/metrics answers every raw sample of the run, so each refresh takes the
// whole list. TODO(issue-7): when the results API downsamples on the server and takes a `since=`
// cursor, `refresh()` asks only for what is new and appends it; pages and charts stay as they are.
import { getRunMetrics } from './api.js';

export function createMetricsFeed(runId) {
  let samples = [];
  return {
    async refresh() {
      const page = await getRunMetrics(runId);
      samples = page.items;
      return samples;
    },
  };
}

/** Samples as the column arrays the charts draw: x in epoch seconds, then one array per figure. */
export function toColumns(samples) {
  const columns = { time: [], users: [], rps: [], failuresPerSecond: [], p50Ms: [], p95Ms: [], p99Ms: [] };
  for (const sample of samples) {
    columns.time.push(sample.at / 1000);
    columns.users.push(sample.users);
    columns.rps.push(sample.rps);
    columns.failuresPerSecond.push(sample.failuresPerSecond);
    columns.p50Ms.push(sample.p50Ms ?? null);
    columns.p95Ms.push(sample.p95Ms ?? null);
    columns.p99Ms.push(sample.p99Ms ?? null);
  }
  return columns;
}
