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

/** The URL of an API route, as the browser asks for it (also what links to API pages point at). */
export function apiUrl(path, query) {
  const url = new URL(apiBase + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  return url;
}

// `raw` sends bytes as they are (with its own content type); `blob` reads the answer as bytes.
async function call(method, path, { query, body, headers, raw, blob } = {}) {
  const url = apiUrl(path, query);
  const init = { method, headers: { accept: blob ? '*/*' : 'application/json', ...(await authHeaders()), ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  } else if (raw) {
    init.headers['content-type'] = raw.contentType;
    init.body = raw.bytes;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { code: 'NetworkError', message: `Cannot reach the API: ${error.message}` });
  }
  if (blob && response.ok) return { status: response.status, data: await response.blob(), response };
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
/** `path`: that one file's diff alone (what a file whose diff was cut to fit offers). */
export const diffRevisions = (testId, from, to, path) =>
  data(call('GET', `/v1/load-tests/${id(testId)}/script/diff`, { query: { from, to, path } }));
/** A bundle is `{ scriptContent, files?, entryPath? }` (base64 contents), as the API takes it. */
export const validateScript = (bundle) => data(call('POST', '/v1/scripts/validate', { body: bundle }));
export const getRevisionFile = (testId, revision, path) =>
  data(call('GET', `/v1/load-tests/${id(testId)}/script/revisions/${id(revision)}/files/${path.split('/').map(id).join('/')}`));
export const listTemplates = () => data(call('GET', '/v1/script-templates'));

/** 201: a new revision; 200: identical to the latest, nothing created. */
export async function saveScript(testId, bundle, description) {
  const { status, data: revision } = await call('PUT', `/v1/load-tests/${id(testId)}/script`, {
    body: { ...bundle, ...(description ? { description } : {}) },
  });
  return { revision, created: status === 201 };
}

/** A zip as the new revision (PUT …/script/archive); same answers as saveScript. */
export async function uploadArchive(testId, file, { description, entryPath } = {}) {
  const { status, data: revision } = await call('PUT', `/v1/load-tests/${id(testId)}/script/archive`, {
    query: { description, entryPath }, raw: { bytes: file, contentType: 'application/zip' },
  });
  return { revision, created: status === 201 };
}

/** The revision's bundle as a zip: `{ blob, filename }` (the name the API gives it). */
export async function downloadArchive(testId, revision) {
  const { data: blob, response } = await call('GET', `/v1/load-tests/${id(testId)}/script/revisions/${id(revision)}/archive`, { blob: true });
  const named = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') || '');
  return { blob, filename: named ? named[1] : `revision-${revision}.zip` };
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

// ---- results ----
export const getRunStats = (runId) => data(call('GET', `/v1/runs/${id(runId)}/stats`));
export const compareRuns = (base, target) => data(call('GET', '/v1/runs/compare', { query: { base, target } }));
export const getTrends = (testId, limit) => data(call('GET', `/v1/load-tests/${id(testId)}/trends`, { query: { limit } }));
export const setBaseline = (testId, runId) => data(call('PUT', `/v1/load-tests/${id(testId)}/baseline`, { body: { runId } }));
// Pages the API renders (text/html; in AWS a redirect to a short-lived S3 link) open in a new tab:
// plain links, or with sign-in (a tab carries no token) where `?format=link` says (components/report-link.js).
/** Where to open a report page (`?format=link`): `{ url, expiresInSeconds }`, in AWS a presigned URL. */
export const reportLink = (path, query) => data(call('GET', path, { query: { ...query, format: 'link' } }));

// ---- triggers and schedules ----
const automation = (testId, kind, itemId) =>
  `/v1/load-tests/${id(testId)}/${kind}${itemId ? `/${id(itemId)}` : ''}`;
export const listTriggers = (testId) => data(call('GET', automation(testId, 'triggers')));
export const createTrigger = (testId, body) => data(call('POST', automation(testId, 'triggers'), { body }));
export const deleteTrigger = (testId, triggerId) => call('DELETE', automation(testId, 'triggers', triggerId));
export const updateTrigger = (testId, triggerId, changes) =>
  data(call('PATCH', automation(testId, 'triggers', triggerId), { body: changes }));
export const listSchedules = (testId) => data(call('GET', automation(testId, 'schedules')));
export const createSchedule = (testId, body) => data(call('POST', automation(testId, 'schedules'), { body }));
export const updateSchedule = (testId, scheduleId, changes) =>
  data(call('PATCH', automation(testId, 'schedules', scheduleId), { body: changes }));
export const deleteSchedule = (testId, scheduleId) => call('DELETE', automation(testId, 'schedules', scheduleId));

// ---- notification channels (the URL, signing secret and auth header value are write-only) ----
/** `testId`: that test's channels only; without it, every channel of the tenant (tests' and scopes'). */
export const listChannels = (testId) => data(call('GET', '/v1/notification-channels', { query: { testId } }));
export const createChannel = (body) => data(call('POST', '/v1/notification-channels', { body }));
export const updateChannel = (channelId, changes) =>
  data(call('PATCH', `/v1/notification-channels/${id(channelId)}`, { body: changes }));
export const deleteChannel = (channelId) => call('DELETE', `/v1/notification-channels/${id(channelId)}`);

// ---- clusters ----
export const listClusters = () => data(call('GET', '/v1/clusters'));
export const putCluster = (body) => data(call('PUT', '/v1/clusters', { body }));
export const deleteCluster = (clusterId) => call('DELETE', `/v1/clusters/${id(clusterId)}`);
export const listVariables = () => data(call('GET', '/v1/variables'));
export const putVariable = (body) => data(call('PUT', '/v1/variables', { body }));
export const deleteVariable = (variableId) => call('DELETE', `/v1/variables/${id(variableId)}`);
export const listSecrets = () => data(call('GET', '/v1/secrets'));
export const putSecret = (body) => data(call('PUT', '/v1/secrets', { body }));
export const deleteSecret = (secretId) => call('DELETE', `/v1/secrets/${id(secretId)}`);

// ---- who is calling, API tokens, the audit log ----
/** `{ subject, email, accountId, role, tokenId?, loadTestIds? }`: asked once at start (access.js). */
export const getMe = () => data(call('GET', '/v1/me'));
export const listTokens = (query) => data(call('GET', '/v1/tokens', { query }));
/** 201: the record with `token`, the secret itself, which the API answers this once and never again. */
export const createToken = (body) => data(call('POST', '/v1/tokens', { body }));
export const revokeToken = (tokenId) => call('DELETE', `/v1/tokens/${id(tokenId)}`);
/** `query`: target, actor, from, to, limit, cursor; newest first. */
export const listAudit = (query) => data(call('GET', '/v1/audit', { query }));
