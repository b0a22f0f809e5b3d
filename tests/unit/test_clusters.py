"""Cluster resolution: the seed's GetLocustCluster(account, org, project, env), most specific wins."""

from __future__ import annotations

import pytest

from load_manager.errors import ForbiddenError, UnprocessableError
from load_manager.identity import Caller
from load_manager.models.clusters import PutClusterRequest
from load_manager.settings import EcsDefaults, Settings, set_settings
from load_manager.usecases.clusters import put_cluster, resolve_cluster

ADMIN = Caller(subject="a", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))
USER = Caller(subject="u", email="user@example.com", account_id="acct", groups=frozenset())
ECS = {"cluster": "locust", "masterTaskDefinition": "m:1", "workerTaskDefinition": "w:1", "subnets": ["subnet-0a1b"], "securityGroups": ["sg-0a1b"]}


@pytest.fixture(autouse=True)
def deployment():
    """A deployment whose own subnet and group are ECS's (and one more of each it allows)."""
    ecs = EcsDefaults(subnets=("subnet-0a1b",), allowed_subnets=("subnet-0a1b", "subnet-0c2d"), allowed_security_groups=("sg-0a1b",))
    set_settings(Settings(ecs=ecs))
    yield
    set_settings(None)


def put(stores, **scope):
    body = {"backend": "ecs", "ecs": ECS, **scope}
    return put_cluster(stores, ADMIN, PutClusterRequest.model_validate(body))


def test_most_specific_configuration_wins(stores):
    account = put(stores, maxWorkers=4)
    org = put(stores, orgId="o1", maxWorkers=8)
    project = put(stores, orgId="o1", projectId="p1", maxWorkers=16)
    env = put(stores, orgId="o1", projectId="p1", envId="prod", maxWorkers=32)
    assert resolve_cluster(stores, "acct", "o1", "p1", "prod").id == env.id
    assert resolve_cluster(stores, "acct", "o1", "p1", "staging").id == project.id
    assert resolve_cluster(stores, "acct", "o1", "p2", "prod").id == org.id
    assert resolve_cluster(stores, "acct", "o2", None, None).id == account.id
    assert resolve_cluster(stores, "acct", None, None, "prod").id == account.id


def test_no_configuration_falls_back_to_the_deployment_default(stores):
    put(stores, orgId="o1")
    default = resolve_cluster(stores, "other-account", "o1", None, None)
    assert default.id == "default" and default.backend == "local"  # DEFAULT_CLUSTER_BACKEND


def test_put_replaces_the_configuration_of_a_scope(stores):
    first = put(stores, orgId="o1", maxWorkers=2)
    second = put(stores, orgId="o1", maxWorkers=6)
    assert second.id == first.id and [c.max_workers for c in stores.clusters.list("acct")] == [6]


def test_writes_need_the_admin_group_and_a_consistent_request(stores):
    with pytest.raises(ForbiddenError):
        put_cluster(stores, USER, PutClusterRequest.model_validate({"backend": "local"}))
    with pytest.raises(UnprocessableError):
        put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "ecs"}))  # no ecs settings
    with pytest.raises(UnprocessableError):
        put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "local", "envId": "prod"}))  # env without project


def test_a_cluster_in_use_by_an_active_run_cannot_be_deleted(stores):
    from load_manager.errors import RunActiveError
    from load_manager.models.runs import Run, StatusChange
    from load_manager.usecases.clusters import delete_cluster

    cluster = put(stores, orgId="o1")
    run = Run(
        id="r" * 32, account_id="acct", load_test_id="t" * 32, status="Running",
        status_history=[StatusChange(status="Running", at=1, actor="system")], script_revision_id="x", revision_number=1,
        script_sha256="0" * 64, target_url="http://127.0.0.1:9", target_users=1, spawn_rate=1, duration_seconds=10, workers=1,
        cluster_id=cluster.id, created_at=1, created_by="a",
    )
    stores.runs.insert(run)
    with pytest.raises(RunActiveError):
        delete_cluster(stores, ADMIN, cluster.id)
    stores.runs.transition("acct", run.id, {"Running"}, StatusChange(status="Finished", at=2, actor="system"))
    delete_cluster(stores, ADMIN, cluster.id)
    assert stores.clusters.list("acct") == []


@pytest.mark.parametrize(
    ("change", "code", "details"),
    [
        ({"subnets": ["subnet-0a1b", "subnet-0bad"]}, "SubnetNotAllowed", {"subnet": "subnet-0bad"}),
        ({"securityGroups": ["sg-0bad"]}, "SecurityGroupNotAllowed", {"securityGroup": "sg-0bad"}),
        ({"assignPublicIp": True}, "PublicIpNotAllowed", {"assignPublicIp": True}),
    ],
)
def test_a_configuration_chooses_only_the_network_the_deployment_allows(stores, change, code, details):
    with pytest.raises(UnprocessableError) as refused:
        put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "ecs", "ecs": {**ECS, **change}}))
    assert refused.value.code == code and refused.value.details == details
    assert next(iter(details.values())) is True or next(iter(details.values())) in refused.value.message
    assert stores.clusters.list("acct") == []  # nothing stored
    # What the deployment allows passes: another allowed subnet, no extra group at all.
    allowed = put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "ecs", "ecs": {**ECS, "subnets": ["subnet-0c2d"], "securityGroups": []}}))
    assert allowed.ecs is not None and allowed.ecs.subnets == ["subnet-0c2d"] and allowed.ecs.security_groups == []
