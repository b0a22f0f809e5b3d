"""Scripts API: immutable revision history (update, latest, list, get, diff, rollback) and validate."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import (
    BODY_ERRORS,
    COMMON_ERRORS,
    api_function,
    binary_response,
    current_caller,
    error_docs,
    json_response,
    raw_body,
    responses,
)
from load_manager.models.base import Description
from load_manager.models.bundles import BundleFileContent, EntryPath, ScriptTemplateList
from load_manager.models.scripts import (
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
from load_manager.usecases import bundles, scripts

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
    return _written(
        *scripts.update_script(get_stores(), current_caller(app), testId, body.script_content, body.description, body.files, body.entry_path)
    )


ZIP = "application/zip"
ZIP_MEDIA = frozenset({ZIP, "application/x-zip-compressed", "application/octet-stream"})
ZIP_BODY = {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}
ARCHIVE_ROUTE = "/v1/load-tests/<testId>/script/archive"


@router.put(
    ARCHIVE_ROUTE,
    summary="Save a new revision from a zip archive of the bundle (body: application/zip)",
    tags=["scripts"],
    responses=WRITE_RESPONSES,
    openapi_extensions={"x-request-body": ZIP_BODY},
)
def update_script_archive(
    testId: str,  # noqa: N803
    description: Annotated[Description | None, Query(description="The revision's description")] = None,
    entry_path: Annotated[
        EntryPath | None,
        Query(alias="entryPath", description="What Locust's -f names in the archive: a locustfile (default locustfile.py), several "
              "(comma-separated) or a folder (every .py file in it whose name does not start with '_')"),
    ] = None,
) -> Response[ScriptRevision]:
    caller = current_caller(app)
    return _written(*scripts.update_from_archive(get_stores(), caller, testId, raw_body(app), entry_path, description))


@router.get(
    "/v1/load-tests/<testId>/script/revisions/<revisionId>/archive",
    summary="The revision's whole bundle as a zip archive",
    tags=["scripts"],
    responses={200: {"description": "The bundle, as a zip archive", "content": ZIP_BODY["content"]}, **error_docs(*COMMON_ERRORS, 404)},  # type: ignore[typeddict-item]
)
def get_revision_archive(testId: str, revisionId: str):  # noqa: N803 - no return annotation: Powertools would validate the zip as text
    revision, data = scripts.revision_archive(get_stores(), current_caller(app), testId, revisionId)
    return binary_response(data, ZIP, f"load-test-{testId}-revision-{revision.revision_number}.zip")


@router.get(
    "/v1/load-tests/<testId>/script/revisions/<revisionId>/files/<path>",
    summary="One file of a revision's bundle, base64-encoded (the path may contain slashes)",
    tags=["scripts"],
    responses=responses(BundleFileContent, *COMMON_ERRORS, 404),
)
def get_revision_file(testId: str, revisionId: str, path: str) -> BundleFileContent:  # noqa: N803
    return scripts.revision_file(get_stores(), current_caller(app), testId, revisionId, unquote(path))


@router.get(
    "/v1/script-templates",
    summary="Script templates a new load test can start from (POST /v1/load-tests with templateId)",
    tags=["scripts"],
    responses=responses(ScriptTemplateList, *COMMON_ERRORS),
)
def list_script_templates() -> ScriptTemplateList:
    current_caller(app)  # authenticated like every other route
    return bundles.list_templates()


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
    summary="Unified diff between two revisions, file by file (or of one file); each file's diff cut to what an answer can carry",
    tags=["scripts"],
    responses=responses(ScriptDiff, *COMMON_ERRORS, 404, 410),
)
def diff_revisions(
    testId: str,  # noqa: N803
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=64, description="Revision id or number")],
    to: RevisionRef,
    path: Annotated[
        str | None, Query(min_length=1, max_length=1024, description="Only this file's diff (a truncated file's `fullDiffUrl` names it)")
    ] = None,
) -> ScriptDiff:
    return scripts.diff(get_stores(), current_caller(app), testId, from_, to, path)


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
    return scripts.validation_report(body.script_content, body.files, body.entry_path)


app, lambda_handler = api_function(router, binary_routes={"PUT /v1/load-tests/{testId}/script/archive": ZIP_MEDIA})
