"""Inside AWS Lambda the local backend does not exist: tenant code never runs in the control plane.
(The template harness, tests/template, shows the same through the functions' real environments.)"""

from __future__ import annotations

import pytest
from support import asl
from support.lifecycle import ASL, create_run
from support.runs import locust_work_dirs

from load_manager.backends import backend_for
from load_manager.errors import UnprocessableError
from load_manager.identity import Caller
from load_manager.lifecycle.dispatch import run_step
from load_manager.models.clusters import PutClusterRequest
from load_manager.settings import Settings, SettingsError, get_settings, set_settings
from load_manager.usecases import clusters

pytestmark = pytest.mark.usefixtures("fast_settings")
ADMIN = Caller(subject="u1", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))


@pytest.fixture
def in_lambda():
    set_settings(get_settings().model_copy(update={"in_lambda": True, "default_backend": "ecs"}))


def test_a_run_recorded_on_the_local_backend_fails_in_lambda_and_starts_no_process(stores):
    run = create_run(stores, duration_seconds=1)  # recorded outside Lambda: backend local
    assert run.backend == "local"
    set_settings(get_settings().model_copy(update={"in_lambda": True}))
    execution = asl.run(ASL, lambda event: run_step(event, stores, backend_for), {"runId": run.id, "accountId": run.account_id})
    final = stores.runs.get(run.account_id, run.id)
    assert execution.status == "FAILED" and final.status == "Failed"
    assert final.failure_reason.startswith("LocalBackendRefusedError: the local Locust backend does not run inside AWS Lambda")
    assert stores.runs.get_handle(run.account_id, run.id) is None and not locust_work_dirs(run.id)


def test_the_clusters_api_refuses_a_local_cluster_in_lambda(stores, in_lambda):
    with pytest.raises(UnprocessableError) as refused:
        clusters.put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "local"}))
    assert refused.value.code == "LocalBackendUnavailable" and stores.clusters.list("acct") == []


def test_a_start_that_resolves_to_a_stored_local_cluster_is_refused_in_lambda(stores):
    clusters.put_cluster(stores, ADMIN, PutClusterRequest.model_validate({"backend": "local"}))  # stored before
    set_settings(get_settings().model_copy(update={"in_lambda": True, "default_backend": "ecs"}))
    with pytest.raises(UnprocessableError) as refused:
        create_run(stores)
    assert refused.value.code == "LocalBackendUnavailable"


def test_lambdas_environment_may_not_name_the_local_backend():
    with pytest.raises(SettingsError, match="DEFAULT_CLUSTER_BACKEND=local inside AWS Lambda"):
        Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "runs", "DEFAULT_CLUSTER_BACKEND": "local"})
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "runs", "DEFAULT_CLUSTER_BACKEND": "ecs"}).in_lambda
