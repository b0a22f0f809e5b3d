"""Access: the account's API tokens (admin), and more about who may do what (the caller itself, the
audit log, usage) as those areas add their routes here."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, json_response, responses
from load_manager.models.audit import AuditPage
from load_manager.models.me import Me
from load_manager.models.tokens import CreatedToken, CreateTokenRequest, TokenPage
from load_manager.models.usage_answers import GroupBy, UsageReport
from load_manager.pagination import DEFAULT_LIMIT, MAX_LIMIT
from load_manager.store import get_stores
from load_manager.usecases import me, tokens

router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
MAX_EPOCH_MS = 10**13  # the year 2286: bounds what a store is asked to compare


# ---- API tokens (usecases/tokens.py) ------------------------------------------------------------------


@router.post(
    "/v1/tokens",
    summary="Create an API token for a pipeline (admin); its text is in this answer only",
    description="The token acts with `role` (viewer, runner or editor) on the tests of `loadTestIds` (absent: every test of the account) "
    "until it expires or is revoked. Send it as `Authorization: Bearer <token>`; the CLI reads it from LOAD_MANAGER_TOKEN.",
    tags=["tokens"],
    responses=responses(CreatedToken, *BODY_ERRORS, 404, 429, status=201, description="Created"),  # 404: a loadTestId not of the account
)
def create_token(body: CreateTokenRequest) -> Response[CreatedToken]:
    created = tokens.create(get_stores(), current_caller(app), body)
    return json_response(created, 201, headers={"Location": f"/v1/tokens/{created.id}", "Cache-Control": "no-store"})


@router.get(
    "/v1/tokens",
    summary="The account's API tokens, newest first (admin): never their text",
    tags=["tokens"],
    responses=responses(TokenPage, *COMMON_ERRORS),
)
def list_tokens(limit: Limit = DEFAULT_LIMIT, cursor: Annotated[str | None, Query(max_length=512)] = None) -> TokenPage:
    return tokens.list_page(get_stores(), current_caller(app), limit, cursor)


@router.delete(
    "/v1/tokens/<tokenId>",
    summary="Revoke an API token at once (admin); revoking a revoked token changes nothing",
    tags=["tokens"],
    responses=responses(None, *COMMON_ERRORS, 404, status=204, description="Revoked"),
)
def revoke_token(tokenId: str) -> Response[None]:  # noqa: N803 - the path parameter's name on the wire
    tokens.revoke(get_stores(), current_caller(app), tokenId)
    return Response(status_code=204)


# ---- the audit trail (usecases/audit.py) ---------------------------------------------------------------


@router.get(
    "/v1/audit",
    summary="The account's audit trail, newest first (admin): who changed which configuration, when, from what to what",
    description="Every change of configuration (tests, scripts, criteria, auto-stop, baselines, triggers, schedules, clusters, "
    "variables and secrets by name, notification channels, tokens) and every run started or stopped, with the actor, its role, "
    "the target and the sha256 digests of the target before and after. `target`: a resource's id (a load test's id also finds "
    "its script's, triggers', schedules' and runs' records); `actor`: as records name it (an email, a subject, token:<name>); "
    "`from`/`to`: epoch ms, [from, to).",
    tags=["audit"],
    responses=responses(AuditPage, *COMMON_ERRORS),
)
def get_audit(
    target: Annotated[str | None, Query(min_length=1, max_length=128, description="A resource's id, e.g. a load test's")] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=320, description="Who made the changes, as records name them")] = None,
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_EPOCH_MS, description="Epoch ms, inclusive")] = None,
    to: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS, description="Epoch ms, exclusive")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AuditPage:
    from load_manager.usecases import audit  # lazy: the tokens routes (this function's most) never read the trail

    return audit.query(get_stores(), current_caller(app), target=target, actor=actor, start=from_, end=to, limit=limit, cursor=cursor)


# ---- usage and cost (usecases/usage.py) -----------------------------------------------------------------


@router.get(
    "/v1/usage",
    summary="What the account's runs used and cost, summed per test, project or env",
    description="Runs created in [from, to) (epoch ms; default: this calendar month, UTC, until now; at most 366 days), summed from "
    "each run's recorded usage (vCPU-hours, memory GB-hours, estimated cost). A token scoped to some tests sees only theirs. "
    "With a monthly vCPU-hour budget, `budget` says how it stands.",
    tags=["usage"],
    responses=responses(UsageReport, *COMMON_ERRORS),
)
def get_usage(
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_EPOCH_MS, description="Epoch ms, inclusive (default: the month's start)")] = None,
    to: Annotated[int | None, Query(ge=1, le=MAX_EPOCH_MS, description="Epoch ms, exclusive (default: now)")] = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy", description="test, project or env")] = "test",
) -> UsageReport:
    from load_manager.usecases import usage  # lazy: 34 ms at import (bench/cold_import.py --lazy), off the tokens routes

    return usage.report(get_stores(), current_caller(app), from_, to, group_by)


# ---- the caller itself (usecases/me.py) ---------------------------------------------------------------------


@router.get(
    "/v1/me",
    summary="Who the API takes you for: subject, tenant, role (and a token's id and scope)",
    description="The console asks this once to hide what the caller's role may not do; the API still decides (403 Forbidden).",
    tags=["access"],
    responses=responses(Me, *COMMON_ERRORS),
)
def get_me() -> Me:
    return me.describe(current_caller(app))


app, lambda_handler = api_function(router)
