"""Scripts API: immutable revision history (update, latest, list, get, diff, rollback) and validate."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, error_docs, json_response, responses
from load_manager.models import (
    RevisionPage,
    RollbackRequest,
    ScriptDiff,
    ScriptRevision,
    UpdateScriptRequest,
    ValidateScriptRequest,
    ValidationReport,
)
from load_manager.pagination import DEFAULT_LIMIT, MAX_LIMIT
from load_manager.store import get_stores
from load_manager.usecases import scripts

router = APIGatewayHttpRouter()
RevisionRef = Annotated[str, Query(min_length=1, max_length=64, description="Revision id or number")]
WRITE_RESPONSES = {
    **responses(ScriptRevision, status=200, description="Identical to the latest revision: nothing created"),
    **responses(ScriptRevision, *BODY_ERRORS, 404, 413, status=201, description="New revision created"),
}


def _written(revision: ScriptRevision, created: bool) -> Response:
    return json_response(revision, 201 if created else 200)


@router.put("/v1/load-tests/<testId>/script", summary="Save a new script revision", tags=["scripts"], responses=WRITE_RESPONSES)
def update_script(testId: str, body: UpdateScriptRequest) -> Response[ScriptRevision]:  # noqa: N803
    return _written(*scripts.update_script(get_stores(), current_caller(app), testId, body.script_content, body.description))


@router.get(
    "/v1/load-tests/<testId>/script",
    summary="The latest revision, with content",
    tags=["scripts"],
    responses=responses(ScriptRevision, *COMMON_ERRORS, 404),
)
def get_latest_script(testId: str) -> ScriptRevision:  # noqa: N803
    return scripts.latest(get_stores(), current_caller(app), testId)


@router.get(
    "/v1/load-tests/<testId>/script/revisions",
    summary="Revision metadata, newest first (no content)",
    tags=["scripts"],
    responses=responses(RevisionPage, *COMMON_ERRORS, 404),
)
def list_revisions(
    testId: str,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> RevisionPage:
    return scripts.list_revisions(get_stores(), current_caller(app), testId, limit, cursor)


@router.get(
    "/v1/load-tests/<testId>/script/revisions/<revisionId>",
    summary="One revision, with content (by id or by number)",
    tags=["scripts"],
    responses=responses(ScriptRevision, *COMMON_ERRORS, 404, 410),
)
def get_revision(testId: str, revisionId: str) -> ScriptRevision:  # noqa: N803
    return scripts.get_revision(get_stores(), current_caller(app), testId, revisionId)


@router.get(
    "/v1/load-tests/<testId>/script/diff",
    summary="Unified diff between two revisions",
    tags=["scripts"],
    responses=responses(ScriptDiff, *COMMON_ERRORS, 404, 410),
)
def diff_revisions(
    testId: str,  # noqa: N803
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=64, description="Revision id or number")],
    to: RevisionRef,
) -> ScriptDiff:
    return scripts.diff(get_stores(), current_caller(app), testId, from_, to)


@router.post(
    "/v1/load-tests/<testId>/script/rollback",
    summary="New revision restoring an older one's content",
    tags=["scripts"],
    responses={**WRITE_RESPONSES, **error_docs(410)},
)
def rollback(testId: str, body: RollbackRequest) -> Response[ScriptRevision]:  # noqa: N803
    return _written(*scripts.rollback(get_stores(), current_caller(app), testId, body.revision, body.description))


@router.post(
    "/v1/scripts/validate",
    summary="Validate a script statically; nothing is saved",
    tags=["scripts"],
    responses=responses(ValidationReport, *BODY_ERRORS, 413),
)
def validate_script(body: ValidateScriptRequest) -> ValidationReport:
    current_caller(app)  # authenticated like every other route
    return scripts.validation_report(body.script_content)


app, lambda_handler = api_function(router)
