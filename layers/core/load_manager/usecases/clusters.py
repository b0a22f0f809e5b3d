"""Which Locust cluster runs a test: configured per scope, the most specific match wins.

Scopes nest account -> org -> project -> env. A configuration matches a run when each scope field
it sets equals the run's; among matches the one that sets the deepest level wins (the seed's
GetLocustCluster(accountID, orgID, projectID, envID); usecases/scopes.py, which variables and
secrets resolve by too). No match: the deployment's default.
"""

from __future__ import annotations

from load_manager.access import ADMIN, require_role
from load_manager.errors import ClusterNotFoundError, RunActiveError, UnprocessableError
from load_manager.identity import Caller
from load_manager.ids import new_id, now_ms
from load_manager.models.base import BackendKind
from load_manager.models.clusters import ClusterConfig, ClusterPage, EcsClusterSettings, PutClusterRequest
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.store.ports.clusters import scope_key
from load_manager.usecases import audit
from load_manager.usecases.scopes import RunScope, check_nesting, most_specific

DEFAULT_CLUSTER_ID = "default"
DEFAULT_MAX_WORKERS = 8


def resolve_cluster(stores: Stores, account_id: str, org_id: str | None, project_id: str | None, env_id: str | None) -> ClusterConfig:
    found = most_specific(stores.clusters.list(account_id), RunScope(org_id, project_id, env_id))
    resolved = found or default_cluster(account_id, get_settings().default_backend)
    _refuse_local_in_lambda(resolved.backend)  # a configuration stored before the refusal existed
    return resolved


def _refuse_local_in_lambda(backend: BackendKind) -> None:
    if backend == "local" and get_settings().in_lambda:
        raise UnprocessableError(
            "the local backend runs Locust inside the control plane and is not available in AWS: use backend ecs",
            code="LocalBackendUnavailable",
        )


def default_cluster(account_id: str, backend: BackendKind) -> ClusterConfig:
    """The deployment's own cluster, for scopes no configuration matches."""
    return ClusterConfig(
        id=DEFAULT_CLUSTER_ID, account_id=account_id, backend=backend, max_workers=DEFAULT_MAX_WORKERS,
        updated_at=0, updated_by="deployment",
    )  # fmt: skip


def _require_admin(caller: Caller) -> None:
    require_role(caller.role, ADMIN, "managing clusters")


def put_cluster(stores: Stores, caller: Caller, request: PutClusterRequest) -> ClusterConfig:
    _require_admin(caller)
    if request.backend == "ecs" and request.ecs is None:
        raise UnprocessableError("an ecs cluster needs its `ecs` settings", code="MissingEcsSettings")
    _refuse_local_in_lambda(request.backend)
    if request.backend == "local" and request.ecs is not None:
        raise UnprocessableError("`ecs` settings only apply to the ecs backend", code="UnexpectedEcsSettings")
    check_nesting(request.org_id, request.project_id, request.env_id)
    if request.ecs is not None:
        _require_allowed_network(request.ecs)
    config = ClusterConfig(
        id=new_id(),
        account_id=caller.account_id,
        org_id=request.org_id,
        project_id=request.project_id,
        env_id=request.env_id,
        backend=request.backend,
        max_workers=request.max_workers,
        ecs=request.ecs,
        updated_at=now_ms(),
        updated_by=caller.actor,
    )

    def write(existing: ClusterConfig | None) -> ClusterConfig | None:
        """Replace the scope's configuration as read (or create the scope's first): `expect` says which."""
        previous = existing.updated_at if existing else None
        stored = config.model_copy(update={"id": existing.id if existing else config.id, "updated_at": audit.stamp(previous)})
        record = audit.change(caller, "cluster.update" if existing else "cluster.create", stored.id, before=existing, after=stored)
        return stores.clusters.put(stored, audit=record, expect={"updated_at": existing.updated_at} if existing else {})

    def at_scope() -> ClusterConfig | None:
        return next((c for c in stores.clusters.list(caller.account_id) if scope_key(c) == scope_key(config)), None)

    return audit.until_written(at_scope, write, "cluster configuration")


def _require_allowed_network(ecs: EcsClusterSettings) -> None:
    """Subnets, security groups and a public IP only as the deployment allows (its own plus
    ECS_ALLOWED_SUBNETS / ECS_ALLOWED_SECURITY_GROUPS; a public IP only if its tasks get one): a
    configuration cannot put its runs next to another tenant's tasks, or in a group that admits them.
    The ecs backend checks again at launch (a configuration stored before this rule)."""
    allowed = get_settings().ecs
    for subnet in ecs.subnets:
        if subnet not in allowed.allowed_subnets:
            raise UnprocessableError(f"subnet {subnet} is not one this deployment allows", code="SubnetNotAllowed", details={"subnet": subnet})
    for group in ecs.security_groups:
        if group not in allowed.allowed_security_groups:
            raise UnprocessableError(
                f"security group {group} is not one this deployment allows", code="SecurityGroupNotAllowed", details={"securityGroup": group}
            )
    if ecs.assign_public_ip and not allowed.assign_public_ip:
        raise UnprocessableError("this deployment gives Locust tasks no public IP", code="PublicIpNotAllowed", details={"assignPublicIp": True})


def list_clusters(stores: Stores, caller: Caller) -> ClusterPage:
    return ClusterPage(items=stores.clusters.list(caller.account_id))


def delete_cluster(stores: Stores, caller: Caller, cluster_id: str) -> None:
    _require_admin(caller)
    if stores.runs.has_active_on_cluster(caller.account_id, cluster_id):
        raise RunActiveError("a run on this cluster is active; stop it or wait for it to end")

    def write(current: ClusterConfig | None) -> bool | None:
        if current is None:
            raise ClusterNotFoundError(f"cluster configuration {cluster_id!r} not found")
        record = audit.change(caller, "cluster.delete", cluster_id, before=current)
        return stores.clusters.delete(caller.account_id, cluster_id, audit=record, expect={"updated_at": current.updated_at}) or None

    audit.until_written(lambda: stores.clusters.get(caller.account_id, cluster_id), write, "cluster configuration")
