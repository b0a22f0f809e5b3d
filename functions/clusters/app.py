"""Locust cluster configuration per scope (account, org, project, env). Writes are admin-only."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, responses
from load_manager.models.clusters import ClusterConfig, ClusterPage, PutClusterRequest
from load_manager.store import get_stores
from load_manager.usecases import clusters

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


app, lambda_handler = api_function(router)
