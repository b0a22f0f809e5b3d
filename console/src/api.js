// The one module that talks to the HTTP API (/v1, documented in openapi.json). Each function is
// one route; answers come back as the API sent them, and any non-2xx becomes an ApiError carrying
// the API's own `code`, `message` and `details`, which the pages show as they are.
import { authHeaders, onUnauthorized } from './auth.js';

let apiBase = '';

export function configureApi(config) {
  apiBase = (config.apiBase || '').replace(/\/$/, '');
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The API answered HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.code || null;
    this.details = body?.details ?? null;
  }
}

const id = encodeURIComponent;

async function call(method, path, { query, body, headers } = {}) {
  const url = new URL(apiBase + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const init = { method, headers: { accept: 'application/json', ...(await authHeaders()), ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { code: 'NetworkError', message: `Cannot reach the API: ${error.message}` });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text.slice(0, 200) };
  }
  if (response.status === 401) await onUnauthorized(); // signs in again when the session is over
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data };
}

const data = async (promise) => (await promise).data;

// ---- load tests ----
export const listTests = (query) => data(call('GET', '/v1/load-tests', { query }));
export const getTest = (testId) => data(call('GET', `/v1/load-tests/${id(testId)}`));
export const createTest = (body) => data(call('POST', '/v1/load-tests', { body }));
export const updateTest = (testId, changes) => data(call('PATCH', `/v1/load-tests/${id(testId)}`, { body: changes }));
export const deleteTest = (testId) => call('DELETE', `/v1/load-tests/${id(testId)}`);

// ---- script revisions ----
export const latestScript = (testId) => data(call('GET', `/v1/load-tests/${id(testId)}/script`));
export const getRevision = (testId, revision) =>
  data(call('GET', `/v1/load-tests/${id(testId)}/script/revisions/${id(revision)}`));
export const listRevisions = (testId, query) =>
  data(call('GET', `/v1/load-tests/${id(testId)}/script/revisions`, { query }));
export const diffRevisions = (testId, from, to) =>
  data(call('GET', `/v1/load-tests/${id(testId)}/script/diff`, { query: { from, to } }));
export const validateScript = (scriptContent) => data(call('POST', '/v1/scripts/validate', { body: { scriptContent } }));

/** 201: a new revision; 200: identical to the latest, nothing created. */
export async function saveScript(testId, scriptContent, description) {
  const { status, data: revision } = await call('PUT', `/v1/load-tests/${id(testId)}/script`, {
    body: { scriptContent, ...(description ? { description } : {}) },
  });
  return { revision, created: status === 201 };
}

export async function rollback(testId, revision) {
  const { status, data: created } = await call('POST', `/v1/load-tests/${id(testId)}/script/rollback`, { body: { revision } });
  return { revision: created, created: status === 201 };
}

// ---- runs ----
export const listRuns = (testId, query) => data(call('GET', `/v1/load-tests/${id(testId)}/runs`, { query }));
export const getRun = (runId) => data(call('GET', `/v1/runs/${id(runId)}`));
export const getRunMetrics = (runId, query) => data(call('GET', `/v1/runs/${id(runId)}/metrics`, { query }));
export const stopRun = (runId) => call('POST', `/v1/runs/${id(runId)}/stop`);

/** The Idempotency-Key makes a retried or double-submitted form start one run, not two. */
export const startRun = (testId, body, idempotencyKey) =>
  data(call('POST', `/v1/load-tests/${id(testId)}/runs`, { body, headers: { 'Idempotency-Key': idempotencyKey } }));

// ---- clusters ----
export const listClusters = () => data(call('GET', '/v1/clusters'));
export const putCluster = (body) => data(call('PUT', '/v1/clusters', { body }));
export const deleteCluster = (clusterId) => call('DELETE', `/v1/clusters/${id(clusterId)}`);
