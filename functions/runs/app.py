"""Runs API: start a run of a pinned script revision, read it live, list, stop, its script. (Its metrics,
stats and report are the results function's.)"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.adapters.step_functions import default_starter
from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, binary_response, current_caller, error_docs, json_response, responses
from load_manager.models.revisions import ScriptRevision
from load_manager.models.runs import Run, RunPage, RunStatus, StartRunRequest
from load_manager.models.usage_answers import RunEstimate
from load_manager.pagination import DEFAULT_LIMIT, MAX_LIMIT
from load_manager.store import get_stores
from load_manager.usecases import runs

router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]


@router.post(
    "/v1/load-tests/<testId>/runs",
    summary="Start a run of the latest (or a named) script revision",
    tags=["runs"],
    description="With `dryRun=true` nothing is started, stored or held: the answer (200, a RunEstimate) is what the run would use "
    "(generators x vCPU x planned duration), its estimated cost, and whether it would start now (else the quota or budget refusal).",
    responses={
        **responses(Run, *BODY_ERRORS, 404, 409, 410, 429, 503, status=201, description="Run created and its lifecycle started"),
        200: {
            "description": "Replay of an earlier request with the same Idempotency-Key (a Run); with dryRun=true, the estimate (a RunEstimate)",
            "content": {"application/json": {"model": Run | RunEstimate}},
        },
    },
)
def create_run(
    testId: str,  # noqa: N803 - the path parameter's name on the wire
    body: StartRunRequest | None = None,
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", description="Repeat-safe key, up to 64 chars, kept 24 h")] = None,
    dry_run: Annotated[bool, Query(alias="dryRun", description="Answer the estimate; start nothing")] = False,
) -> Response[Run | RunEstimate]:
    request = body or StartRunRequest()  # no body: every setting from the test's defaults
    if dry_run:
        from load_manager.usecases import usage  # lazy: 3 ms at import (bench/cold_import.py --lazy), dry runs only

        return json_response(usage.dry_run(get_stores(), current_caller(app), testId, request), 200)
    run, created = runs.start_run(get_stores(), default_starter, current_caller(app), testId, request, idempotency_key)
    return json_response(run, 201 if created else 200, headers={"Location": f"/v1/runs/{run.id}"})


@router.get(
    "/v1/load-tests/<testId>/runs", summary="A test's runs, newest first", tags=["runs"], responses=responses(RunPage, *COMMON_ERRORS, 404)
)
def list_runs(
    testId: str,  # noqa: N803
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    status: Annotated[RunStatus | None, Query()] = None,
) -> RunPage:
    return runs.list_runs(get_stores(), current_caller(app), testId, status, limit, cursor)


@router.get(
    "/v1/runs/<runId>",
    summary="One run: status, history, live figures, results",
    tags=["runs"],
    responses=responses(Run, *COMMON_ERRORS, 404),
)
def get_run(runId: str) -> Run:  # noqa: N803
    return runs.get_run(get_stores(), current_caller(app), runId)


@router.get(
    "/v1/runs/<runId>/script",
    summary="The exact revision the run used: its entry locustfile and every file's path, size and sha256",
    tags=["runs"],
    responses=responses(ScriptRevision, *COMMON_ERRORS, 404),
)
def get_run_script(runId: str) -> ScriptRevision:  # noqa: N803
    return runs.run_script(get_stores(), current_caller(app), runId)


@router.get(
    "/v1/runs/<runId>/script/archive",
    summary="The exact bundle the run used, as a zip archive",
    tags=["runs"],
    responses={
        200: {"description": "The bundle, as a zip archive", "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
        **error_docs(*COMMON_ERRORS, 404),
    },
)
def get_run_script_archive(runId: str):  # noqa: N803 - no return annotation: Powertools would validate the zip as text
    run, data = runs.run_script_archive(get_stores(), current_caller(app), runId)
    return binary_response(data, "application/zip", f"run-{run.id}-revision-{run.revision_number}.zip")


@router.post(
    "/v1/runs/<runId>/stop",
    summary="Stop a run; it ends Cancelled",
    tags=["runs"],
    responses=responses(Run, *COMMON_ERRORS, 404, 409, status=202, description="Stop requested"),
)
def stop_run(runId: str) -> Response[Run]:  # noqa: N803
    return json_response(runs.stop_run(get_stores(), current_caller(app), runId), 202)


app, lambda_handler = api_function(router)
