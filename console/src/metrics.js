// A run's metric samples for the charts. The only module that knows how they are fetched:
// GET /v1/runs/{id}/metrics answers chart-ready columns, downsampled on the server (at most ~1,000
// points per series). The first refresh takes the whole run; each later one passes the previous
// answer's `nextSince` and gets only the points from the last bucket on (that bucket may have grown
// since), which replace what the feed holds from that time on. Pages and charts stay as they are.
import { getRunMetrics } from './api.js';

// `endpoint` ("GET /items") charts one endpoint; `info` keeps what the API says the points are
// (`percentiles`: which percentiles; `stepMs`: the bucket width), for the page to say it in words.
export function createMetricsFeed(runId, endpoint = null) {
  let samples = [];
  let since = null;
  const feed = {
    info: null,
    async refresh() {
      const page = await getRunMetrics(runId, { endpoint, since });
      const fresh = fromColumns(page);
      const from = fresh.length ? fresh[0].at : Infinity;
      samples = [...samples.filter((sample) => sample.at < from), ...fresh];
      since = page.nextSince ?? since;
      feed.info = { percentiles: page.percentiles, stepMs: page.stepMs, origin: page.origin, complete: page.complete };
      return samples;
    },
  };
  return feed;
}

/** The API's columns as one object per point (what `toColumns` and the pages take). */
function fromColumns(page) {
  return page.time.map((at, i) => ({
    at,
    users: page.users[i],
    rps: page.rps[i],
    failuresPerSecond: page.failuresPerSecond[i],
    p50Ms: page.p50Ms[i],
    p95Ms: page.p95Ms[i],
    p99Ms: page.p99Ms[i],
  }));
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
