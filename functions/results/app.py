"""Results API: a run's metrics series, stats and report page; two runs compared (and their
comparison page); a test's trend; its baseline run. Handlers parse and delegate to the layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import BODY_ERRORS, COMMON_ERRORS, JSON, api_function, current_caller, error_docs, responses
from load_manager.models.criteria import EndpointKey
from load_manager.models.generators import RunGenerators
from load_manager.models.load_test_reads import LoadTest
from load_manager.models.results import MetricsSeries, ReportLink, RunComparison, RunStats, SetBaselineRequest, Trends
from load_manager.store import get_stores
from load_manager.usecases import generators, results, series

if TYPE_CHECKING:  # annotations only
    from load_manager.usecases import report_pages

router = APIGatewayHttpRouter()
RunRef = Annotated[str, Query(min_length=1, max_length=64, description="A run id")]
BaseRef = Annotated[str | None, Query(min_length=1, max_length=64, description="A run id; default: the test's baseline run")]
# `?format=link`: where to open the page instead of the page (a browser tab carries no token).
Format = Annotated[
    Literal["link"] | None,
    Query(alias="format", description="`link`: answer JSON {url, expiresInSeconds} to open the page with, instead of the page"),
]
HTML_PAGE: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The page (self-contained HTML); with `format=link`, where to open it (in AWS a presigned S3 URL)",
        "content": {"text/html": {"schema": {"type": "string"}}, JSON: {"model": ReportLink}},
    },
    302: {"description": "In AWS: a redirect to the stored page (a presigned S3 URL, valid 5 minutes)"},
}


# Pages are served from the API's (and locally the console's) origin: sandboxed, they run as an opaque
# origin, so whatever a script's request names put into Locust's report can reach nothing of ours.
PAGE_HEADERS = {"Cache-Control": "no-store", "Content-Security-Policy": "sandbox allow-scripts allow-popups", "X-Content-Type-Options": "nosniff"}


def _page(page: report_pages.Page) -> Response[str]:
    if page.redirect:
        return Response(status_code=302, body="", headers={"Location": page.redirect, "Cache-Control": "no-store"})
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page.html, headers=PAGE_HEADERS)


def _link(link: ReportLink) -> Response[str]:
    return Response(status_code=200, content_type=JSON, body=link.model_dump_json(by_alias=True), headers={"Cache-Control": "no-store"})


@router.get(
    "/v1/runs/<runId>/metrics",
    summary="The run's time series (users, RPS, failures/s, p50/p95/p99), downsampled to at most 1,000 points",
    tags=["results"],
    responses=responses(MetricsSeries, *COMMON_ERRORS, 404),
)
def get_metrics(
    runId: str,  # noqa: N803 - the path parameter's name on the wire
    start: Annotated[int | None, Query(alias="from", ge=0, le=2**53, description="Window start, epoch ms (default: the run's start)")] = None,
    end: Annotated[int | None, Query(alias="to", ge=0, le=2**53, description="Window end, epoch ms (default: the run's end)")] = None,
    step: Annotated[int | None, Query(ge=1000, le=86_400_000, description="Bucket width in ms (raised to fit 1,000 points)")] = None,
    endpoint: Annotated[EndpointKey | None, Query(description='Only this "METHOD name", e.g. "GET /checkout"')] = None,
    since: Annotated[str | None, Query(max_length=512, description="nextSince of an earlier answer: only newer points")] = None,
) -> Response[str]:
    query = series.SeriesQuery(start=start, end=end, step=step, endpoint=endpoint, since=since)
    answer = results.metrics(get_stores(), current_caller(app), runId, query)
    # Up to 7,000 numbers: encoded by pydantic-core (or at Finalize, for a final run), never via Python's json.
    return Response(status_code=200, content_type="application/json", body=answer.json())


@router.get(
    "/v1/runs/<runId>/stats", summary="The per-endpoint table and the errors", tags=["results"], responses=responses(RunStats, *COMMON_ERRORS, 404)
)
def get_stats(runId: str) -> RunStats:  # noqa: N803
    return results.stats(get_stores(), current_caller(app), runId)


@router.get(
    "/v1/runs/<runId>/generators",
    summary="The load generators' CPU and memory over the run (each Locust process), and whether one was saturated",
    tags=["results"],
    responses=responses(RunGenerators, *COMMON_ERRORS, 404),
)
def get_generators(runId: str) -> RunGenerators:  # noqa: N803
    return generators.run_generators(get_stores(), current_caller(app), runId)


@router.get("/v1/runs/<runId>/report", summary="The run's report page", tags=["results"], responses={**HTML_PAGE, **error_docs(*COMMON_ERRORS, 404)})
def get_report(runId: str, as_format: Format = None) -> Response[str]:  # noqa: N803
    from load_manager.usecases import report_pages  # lazy: the pages (rendering, html) cost 4 ms at import (bench/cold_import.py --lazy)

    if as_format == "link":
        return _link(report_pages.report_link(get_stores(), current_caller(app), runId))
    return _page(report_pages.report(get_stores(), current_caller(app), runId))


@router.get(
    "/v1/runs/<runId>/locust-report", summary="Locust's own HTML report of the run", tags=["results"],
    responses={**HTML_PAGE, **error_docs(*COMMON_ERRORS, 404)},
)  # fmt: skip
def get_locust_report(runId: str, as_format: Format = None) -> Response[str]:  # noqa: N803
    from load_manager.usecases import report_pages  # lazy: the pages (rendering, html) cost 4 ms at import (bench/cold_import.py --lazy)

    if as_format == "link":
        return _link(report_pages.locust_report_link(get_stores(), current_caller(app), runId))
    return _page(report_pages.locust_report(get_stores(), current_caller(app), runId))


@router.get(
    "/v1/runs/compare",
    summary="Two runs compared: deltas overall and per endpoint, each side's revision and criteria, the script diff",
    tags=["results"],
    responses=responses(RunComparison, *COMMON_ERRORS, 404),
)
def compare_runs(target: RunRef, base: BaseRef = None) -> RunComparison:
    return results.compare(get_stores(), current_caller(app), base, target)


@router.get(
    "/v1/runs/compare/report", summary="The comparison page of two runs, with the script diff", tags=["results"],
    responses={200: HTML_PAGE[200], **error_docs(*COMMON_ERRORS, 404)},
)  # fmt: skip
def compare_report(target: RunRef, base: BaseRef = None, as_format: Format = None) -> Response[str]:
    from load_manager.usecases import report_pages  # lazy: the pages (rendering, html) cost 4 ms at import (bench/cold_import.py --lazy)

    if as_format == "link":
        return _link(report_pages.comparison_report_link(get_stores(), current_caller(app), base, target))
    return _page(report_pages.comparison_report(get_stores(), current_caller(app), base, target))


@router.get(
    "/v1/load-tests/<testId>/trends", summary="One row per Finished run, oldest first", tags=["results"],
    responses=responses(Trends, *COMMON_ERRORS, 404),
)  # fmt: skip
def get_trends(
    testId: str,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=results.MAX_TRENDS, description="The latest N Finished runs")] = results.DEFAULT_TRENDS,
) -> Trends:
    return results.trends(get_stores(), current_caller(app), testId, limit)


@router.put(
    "/v1/load-tests/<testId>/baseline",
    summary="Set (or clear, with null) the test's baseline run: a Finished run of this test",
    tags=["results"],
    responses=responses(LoadTest, *BODY_ERRORS, 404),
)
def put_baseline(testId: str, body: SetBaselineRequest) -> LoadTest:  # noqa: N803
    return results.set_baseline(get_stores(), current_caller(app), testId, body)


app, lambda_handler = api_function(router)
