// What the signed-in caller may do. The console asks GET /v1/me once, at start, and hides the
// controls whose API route needs a higher role than the caller's; the API still decides (403
// `Forbidden` with the role needed), this only spares people buttons that cannot work.
//
// Each control names the API route it calls, as template.yaml and openapi.json spell it, and asks
// `may(route)`; ROUTE_ROLES below is the one place that says which role a route needs. Its lines
// are the API's own (layers/core/load_manager/access.py ROUTE_ROLES): tests/unit/test_console_route_roles.py
// holds them equal, and holds every `may('…')` of the console to a route of this table.
export const ROLES = ['viewer', 'runner', 'editor', 'admin']; // each includes the ones before it

export const ROUTE_ROLES = {
  'POST /v1/load-tests': 'editor',
  'PATCH /v1/load-tests/{testId}': 'editor',
  'DELETE /v1/load-tests/{testId}': 'editor',
  'PUT /v1/load-tests/{testId}/script': 'editor',
  'PUT /v1/load-tests/{testId}/script/archive': 'editor',
  'POST /v1/load-tests/{testId}/script/rollback': 'editor',
  'POST /v1/scripts/validate': 'viewer',
  'POST /v1/load-tests/{testId}/runs': 'runner',
  'POST /v1/runs/{runId}/stop': 'runner',
  'PUT /v1/load-tests/{testId}/baseline': 'runner',
  'POST /v1/load-tests/{testId}/triggers': 'editor',
  'PATCH /v1/load-tests/{testId}/triggers/{triggerId}': 'editor',
  'DELETE /v1/load-tests/{testId}/triggers/{triggerId}': 'editor',
  'POST /v1/load-tests/{testId}/schedules': 'editor',
  'PATCH /v1/load-tests/{testId}/schedules/{scheduleId}': 'editor',
  'DELETE /v1/load-tests/{testId}/schedules/{scheduleId}': 'editor',
  'POST /v1/notification-channels': 'editor',
  'PATCH /v1/notification-channels/{channelId}': 'editor',
  'DELETE /v1/notification-channels/{channelId}': 'editor',
  'PUT /v1/clusters': 'admin',
  'DELETE /v1/clusters/{clusterId}': 'admin',
  'PUT /v1/variables': 'admin',
  'DELETE /v1/variables/{variableId}': 'admin',
  'PUT /v1/secrets': 'admin',
  'DELETE /v1/secrets/{secretId}': 'admin',
  'GET /v1/tokens': 'admin',
  'POST /v1/tokens': 'admin',
  'DELETE /v1/tokens/{tokenId}': 'admin',
  'GET /v1/audit': 'admin',
};

let caller = null; // GET /v1/me's answer; null when it could not be read

/** Set once at start, from GET /v1/me (null when the API did not say: every control is shown). */
export function setCaller(me) {
  caller = me && typeof me.role === 'string' ? me : null;
}

/** `{ subject, email, accountId, role, tokenId?, loadTestIds? }`, or null. */
export const currentCaller = () => caller;

export function roleAtLeast(have, need) {
  const rank = ROLES.indexOf(have);
  return rank >= 0 && rank >= ROLES.indexOf(need);
}

/** May the caller call this route? Unknown caller or route: yes, and the API answers. */
export function may(route) {
  const need = ROUTE_ROLES[route];
  if (!caller || !need) {
    if (!need) console.warn(`access.js: no role known for the route "${route}"`);
    return true;
  }
  return roleAtLeast(caller.role, need);
}

/** Does the caller's role include `need`? For use cases that ask more than their route's line (an
 *  account's, org's, project's or env's notification channels: admin). Unknown caller: yes. */
export const hasRole = (need) => !caller || roleAtLeast(caller.role, need);

/** The least role a route needs (for the words of a page a caller may not see). */
export const roleFor = (route) => ROUTE_ROLES[route] ?? null;
