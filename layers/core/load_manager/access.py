"""Roles within a tenant, and the one table of the least role each API route needs.

viewer < runner < editor < admin: each includes the one before. `http.api_function` refuses a
caller below its route's line with 403 Forbidden before the handler runs; a use case may demand
more (scope-level notification channels stay admin, event-source assignment needs an operator).
Whoever adds a route adds its line here: a test walks every route of openapi.json against it.
"""

from __future__ import annotations

from typing import Final

from load_manager.errors import ForbiddenError

ROLES: Final = ("viewer", "runner", "editor", "admin")
VIEWER, RUNNER, EDITOR, ADMIN = ROLES
# The one route without authentication (no caller, no role): its line says so.
PUBLIC: Final = "public"


def role_at_least(have: str, need: str) -> bool:
    """Whether role `have` includes role `need` (an unknown role includes nothing)."""
    if need == PUBLIC:
        return True
    if have not in ROLES or need not in ROLES:
        return False
    return ROLES.index(have) >= ROLES.index(need)


def refusal(have: str, need: str, doing: str = "this") -> ForbiddenError:
    """The one 403 for a role too low, whether the route's line or a use case refuses."""
    article = "an" if have[:1] in "aeiou" else "a"
    return ForbiddenError(f"{doing} needs the {need} role (or higher); the caller is {article} {have}", details={"requiredRole": need, "role": have})


def require_role(have: str, need: str, doing: str) -> None:
    """403 Forbidden unless role `have` includes `need`: for use cases that demand more than their route's line."""
    if not role_at_least(have, need):
        raise refusal(have, need, doing)


def required_role(route_key: str) -> str | None:
    """The least role `route_key` ("GET /v1/load-tests/{testId}") needs; None for a route not in the table."""
    return ROUTE_ROLES.get(route_key)


# Keyed by the route as template.yaml and openapi.json spell it.
ROUTE_ROLES: Final[dict[str, str]] = {
    "GET /v1/health": PUBLIC,
    # Load tests: criteria, auto-stop and the rest of a test's settings are edited through PATCH.
    "POST /v1/load-tests": EDITOR,
    "GET /v1/load-tests": VIEWER,
    "GET /v1/load-tests/{testId}": VIEWER,
    "PATCH /v1/load-tests/{testId}": EDITOR,
    "DELETE /v1/load-tests/{testId}": EDITOR,
    # Scripts and bundles
    "PUT /v1/load-tests/{testId}/script": EDITOR,
    "GET /v1/load-tests/{testId}/script": VIEWER,
    "GET /v1/load-tests/{testId}/script/revisions": VIEWER,
    "GET /v1/load-tests/{testId}/script/revisions/{revisionId}": VIEWER,
    "GET /v1/load-tests/{testId}/script/diff": VIEWER,
    "POST /v1/load-tests/{testId}/script/rollback": EDITOR,
    "POST /v1/scripts/validate": VIEWER,  # saves nothing
    "PUT /v1/load-tests/{testId}/script/archive": EDITOR,
    "GET /v1/load-tests/{testId}/script/revisions/{revisionId}/archive": VIEWER,
    "GET /v1/load-tests/{testId}/script/revisions/{revisionId}/files/{path+}": VIEWER,
    "GET /v1/script-templates": VIEWER,
    # Runs and results
    "POST /v1/load-tests/{testId}/runs": RUNNER,
    "GET /v1/load-tests/{testId}/runs": VIEWER,
    "GET /v1/runs/{runId}": VIEWER,
    "GET /v1/runs/{runId}/script": VIEWER,
    "GET /v1/runs/{runId}/script/archive": VIEWER,
    "POST /v1/runs/{runId}/stop": RUNNER,
    "GET /v1/runs/{runId}/metrics": VIEWER,
    "GET /v1/runs/{runId}/stats": VIEWER,
    "GET /v1/runs/{runId}/generators": VIEWER,
    "GET /v1/runs/{runId}/report": VIEWER,
    "GET /v1/runs/{runId}/locust-report": VIEWER,
    "GET /v1/runs/compare": VIEWER,
    "GET /v1/runs/compare/report": VIEWER,
    "GET /v1/load-tests/{testId}/trends": VIEWER,
    "PUT /v1/load-tests/{testId}/baseline": RUNNER,
    # Clusters, variables and secrets
    "GET /v1/clusters": VIEWER,
    "PUT /v1/clusters": ADMIN,
    "DELETE /v1/clusters/{clusterId}": ADMIN,
    "GET /v1/variables": VIEWER,
    "PUT /v1/variables": ADMIN,
    "DELETE /v1/variables/{variableId}": ADMIN,
    "GET /v1/secrets": VIEWER,  # names and versions, never a value
    "PUT /v1/secrets": ADMIN,
    "DELETE /v1/secrets/{secretId}": ADMIN,
    "GET /v1/load-tests/{testId}/environment": VIEWER,
    # Triggers, schedules, event sources
    "POST /v1/load-tests/{testId}/triggers": EDITOR,
    "GET /v1/load-tests/{testId}/triggers": VIEWER,
    "GET /v1/load-tests/{testId}/triggers/{triggerId}": VIEWER,
    "PATCH /v1/load-tests/{testId}/triggers/{triggerId}": EDITOR,
    "DELETE /v1/load-tests/{testId}/triggers/{triggerId}": EDITOR,
    "POST /v1/load-tests/{testId}/schedules": EDITOR,
    "GET /v1/load-tests/{testId}/schedules": VIEWER,
    "GET /v1/load-tests/{testId}/schedules/{scheduleId}": VIEWER,
    "PATCH /v1/load-tests/{testId}/schedules/{scheduleId}": EDITOR,
    "DELETE /v1/load-tests/{testId}/schedules/{scheduleId}": EDITOR,
    "POST /v1/event-sources": ADMIN,  # and the operator group (usecases/event_sources.py)
    "GET /v1/event-sources": VIEWER,
    "DELETE /v1/event-sources/{sourceId}": ADMIN,  # and the operator group
    # Notification channels: a test's need an editor; a scope's, an admin (usecases/notification_channels.py)
    "POST /v1/notification-channels": EDITOR,
    "GET /v1/notification-channels": VIEWER,
    "GET /v1/notification-channels/{channelId}": VIEWER,
    "PATCH /v1/notification-channels/{channelId}": EDITOR,
    "DELETE /v1/notification-channels/{channelId}": EDITOR,
    # Access: tokens, audit, usage, the caller itself
    "POST /v1/tokens": ADMIN,
    "GET /v1/tokens": ADMIN,
    "DELETE /v1/tokens/{tokenId}": ADMIN,
    "GET /v1/audit": ADMIN,
    "GET /v1/usage": VIEWER,
    "GET /v1/me": VIEWER,
}
