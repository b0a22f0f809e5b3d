"""Load tests API: create (script becomes revision 1), list, read, edit metadata, delete; health."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, json_response, responses
from load_manager.models.base import Health, ScopeId
from load_manager.models.load_tests import CreateLoadTestRequest, LoadTest, LoadTestPage, UpdateLoadTestRequest
from load_manager.pagination import DEFAULT_LIMIT, MAX_LIMIT
from load_manager.store import get_stores
from load_manager.usecases import load_tests

VERSION = "0.1.0"
router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]


@router.get("/v1/health", summary="Liveness (no auth)", tags=["health"], responses=responses(Health))
def health() -> Health:
    return Health(version=VERSION)


@router.post(
    "/v1/load-tests",
    summary="Create a load test; its script becomes revision 1",
    tags=["load-tests"],
    responses=responses(LoadTest, *BODY_ERRORS, 404, 413, status=201, description="Created"),  # 404: an unknown templateId
)
def create_load_test(body: CreateLoadTestRequest) -> Response[LoadTest]:
    test = load_tests.create(get_stores(), current_caller(app), body)
    return json_response(test, 201, headers={"Location": f"/v1/load-tests/{test.id}"})


@router.get(
    "/v1/load-tests",
    summary="List load tests, newest first, each with its last run",
    description="Each item carries `lastRun` (the test's newest run, from when it starts: status, result, p95, times) and `trend` "
    "(p95 of its last 20 Finished runs), recorded on the test by the runs' status changes and read with the page.",
    tags=["load-tests"],
    responses=responses(LoadTestPage, *COMMON_ERRORS),
)
def list_load_tests(
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    project_id: Annotated[ScopeId | None, Query(alias="projectId")] = None,
) -> LoadTestPage:
    return load_tests.list_page(get_stores(), current_caller(app), project_id, limit, cursor)


@router.get("/v1/load-tests/<testId>", summary="Read a load test", tags=["load-tests"], responses=responses(LoadTest, *COMMON_ERRORS, 404))
def get_load_test(testId: str) -> LoadTest:  # noqa: N803 - the path parameter's name on the wire
    return load_tests.get(get_stores(), current_caller(app), testId)


@router.patch(
    "/v1/load-tests/<testId>", summary="Edit a load test's metadata", tags=["load-tests"], responses=responses(LoadTest, *BODY_ERRORS, 404)
)
def patch_load_test(testId: str, body: UpdateLoadTestRequest) -> LoadTest:  # noqa: N803
    return load_tests.update(get_stores(), current_caller(app), testId, body)


@router.delete(
    "/v1/load-tests/<testId>",
    summary="Delete a load test, its triggers, schedules and own variables, secrets and notification channels",
    description="A soft delete: the test's revisions are kept for the runs that used them. What belonged to the test only goes with "
    "it (its triggers' rules, its schedules, its own variables and secrets with their values, its own notification channels); "
    "what cannot be removed at once is removed by the sweeper, and never fails the delete.",
    tags=["load-tests"],
    responses=responses(None, *COMMON_ERRORS, 404, 409, status=204, description="Deleted"),
)
def delete_load_test(testId: str) -> Response[None]:  # noqa: N803
    load_tests.delete(get_stores(), current_caller(app), testId)
    return Response(status_code=204)


app, lambda_handler = api_function(router)
