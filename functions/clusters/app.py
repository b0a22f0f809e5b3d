"""Scoped configuration: Locust cluster configuration per scope (account, org, project, env; writes
are admin-only), and the variables and secrets runs get, per scope down to a test (usecases/variables.py)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.adapters.vaults import get_vault
from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, responses
from load_manager.models.base import ScopeId
from load_manager.models.clusters import ClusterConfig, ClusterPage, PutClusterRequest
from load_manager.models.variables import PutSecretRequest, PutVariableRequest, RunEnvironment, Secret, SecretPage, Variable, VariablePage
from load_manager.store import get_stores
from load_manager.usecases import clusters, variables

router = APIGatewayHttpRouter()


@router.get(
    "/v1/clusters",
    summary="Cluster configurations of the caller's account",
    tags=["clusters"],
    responses=responses(ClusterPage, *COMMON_ERRORS),
)
def list_clusters() -> ClusterPage:
    return clusters.list_clusters(get_stores(), current_caller(app))


@router.put(
    "/v1/clusters",
    summary="Create or replace the cluster configuration of a scope (admin)",
    tags=["clusters"],
    responses=responses(ClusterConfig, *BODY_ERRORS),
)
def put_cluster(body: PutClusterRequest) -> ClusterConfig:
    return clusters.put_cluster(get_stores(), current_caller(app), body)


@router.delete(
    "/v1/clusters/<clusterId>",
    summary="Delete a cluster configuration (admin)",
    tags=["clusters"],
    responses=responses(None, *COMMON_ERRORS, 404, 409, status=204, description="Deleted"),
)
def delete_cluster(clusterId: str) -> Response[None]:  # noqa: N803
    clusters.delete_cluster(get_stores(), current_caller(app), clusterId)
    return Response(status_code=204)


# ---- variables and secrets ---------------------------------------------------------------------------


@router.get(
    "/v1/variables", summary="The variables of the caller's account", tags=["variables"], responses=responses(VariablePage, *COMMON_ERRORS)
)
def list_variables() -> VariablePage:
    return variables.list_variables(get_stores(), current_caller(app))


@router.put(
    "/v1/variables",
    summary="Set a variable of a scope (admin); each write is a new version",
    tags=["variables"],
    responses=responses(Variable, *BODY_ERRORS, 404, 503),
)
def put_variable(body: PutVariableRequest) -> Variable:
    return variables.put_variable(get_stores(), current_caller(app), body)


@router.delete(
    "/v1/variables/<variableId>",
    summary="Delete a variable",
    tags=["variables"],
    responses=responses(None, *COMMON_ERRORS, 404, 503, status=204, description="Deleted"),
)
def delete_variable(variableId: str) -> Response[None]:  # noqa: N803
    variables.delete_variable(get_stores(), current_caller(app), variableId)
    return Response(status_code=204)


@router.get(
    "/v1/secrets",
    summary="The secrets of the caller's account: names, scopes and versions, never a value",
    tags=["variables"],
    responses=responses(SecretPage, *COMMON_ERRORS),
)
def list_secrets() -> SecretPage:
    return variables.list_secrets(get_stores(), current_caller(app))


@router.put(
    "/v1/secrets",
    summary="Write a secret of a scope (a value, or a reference the deployment allows); never read back",
    tags=["variables"],
    responses=responses(Secret, *BODY_ERRORS, 404, 503),
)
def put_secret(body: PutSecretRequest) -> Secret:
    return variables.put_secret(get_stores(), get_vault(), current_caller(app), body)


@router.delete(
    "/v1/secrets/<secretId>",
    summary="Delete a secret and every version of its value",
    tags=["variables"],
    responses=responses(None, *COMMON_ERRORS, 404, 503, status=204, description="Deleted"),
)
def delete_secret(secretId: str) -> Response[None]:  # noqa: N803
    variables.delete_secret(get_stores(), get_vault(), current_caller(app), secretId)
    return Response(status_code=204)


@router.get(
    "/v1/load-tests/<testId>/environment",
    summary="The variables and secrets (names and versions) a run of the test would get now",
    tags=["variables"],
    responses=responses(RunEnvironment, *COMMON_ERRORS, 404),
)
def get_test_environment(
    testId: str,  # noqa: N803
    env_id: Annotated[ScopeId | None, Query(alias="envId", description="The run's env (default: the test's)")] = None,
) -> RunEnvironment:
    return variables.test_environment(get_stores(), current_caller(app), testId, env_id)


app, lambda_handler = api_function(router)
