"""A run's Locust cluster as the lifecycle records it: one launch per run, recorded before it happens.

StartRun first stores an intent (a handle with a fresh launch id and `launched=False`), then asks
the backend for that launch's cluster (`find_launches`: ECS tasks tagged with the run and launch
ids, a local work dir named after them) and launches only if there is none, then replaces the
intent with the launched handle (`update_handle` is conditional on the launch id). So a retry
after any crash (after the launch, before its handle was stored) adopts the cluster that launch
started instead of starting a second one, and a concurrent attempt finds the same intent. Whatever
tears a run down (Finalize, MarkFailed, the sweeper) resolves an intent the same way and then looks
for any other launch of the run, so nothing is left running.
"""

from __future__ import annotations

import dataclasses
import uuid

from load_manager.backends import BackendFactory
from load_manager.backends.base import ClusterHandle, ClusterSpec, LocustBackend, ProcessStatus
from load_manager.models.clusters import ClusterConfig
from load_manager.models.runs import Run
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases.clusters import DEFAULT_CLUSTER_ID, default_cluster


def cluster_config_of(stores: Stores, run: Run) -> ClusterConfig:
    """The configuration the run was started on (a point read), with the backend it recorded."""
    backend = run.backend or get_settings().default_backend
    config = stores.clusters.get(run.account_id, run.cluster_id) if run.cluster_id and run.cluster_id != DEFAULT_CLUSTER_ID else None
    if config is not None and config.backend == backend:
        return config
    return default_cluster(run.account_id, backend)


def recorded(stores: Stores, run: Run) -> ClusterHandle | None:
    """The handle stored with the run: a launched cluster's, or an intent."""
    stored = stores.runs.get_handle(run.account_id, run.id)
    return ClusterHandle.from_dict(stored) if stored else None


def claimed_handle(stores: Stores, backend: LocustBackend, run: Run, spec: ClusterSpec) -> ClusterHandle:
    """This run's one cluster: the recorded one, or the recorded launch's (found, else launched now)."""
    handle = recorded(stores, run)
    if handle is None:
        intent = ClusterHandle(
            backend=backend.name, run_id=run.id, web_url="", workers=spec.workers, started_at=0.0, launch_id=uuid.uuid4().hex, launched=False
        )
        stores.runs.claim_handle(run.account_id, run.id, intent.to_dict())
        handle = recorded(stores, run)  # ours, or a concurrent attempt's that claimed first
        if handle is None:
            raise RuntimeError(f"run {run.id} lost its cluster handle")
    if handle.launched:
        return handle
    found = backend.find_launches(run.id, handle.launch_id)
    launched = found[0] if found else backend.launch(dataclasses.replace(spec, launch_id=handle.launch_id))
    launched.workers = spec.workers
    stores.runs.update_handle(run.account_id, run.id, launched.to_dict())  # same launch id: replaces the intent
    return launched


def live_handle(stores: Stores, backends: BackendFactory, run: Run) -> tuple[LocustBackend | None, ClusterHandle | None]:
    """The run's backend and cluster; (None, None) when nothing was ever launched for it. An intent
    resolves to the cluster its launch started, if there is one (backend, None otherwise)."""
    handle = recorded(stores, run)
    if handle is None:
        return None, None  # the intent is recorded before any launch: no record, no cluster
    backend = backends(cluster_config_of(stores, run))
    if handle.launched:
        return backend, handle
    found = backend.find_launches(run.id, handle.launch_id)
    return backend, (found[0] if found else None)


def teardown_all(stores: Stores, backends: BackendFactory, run: Run) -> ProcessStatus | None:
    """Tear down the run's cluster, then any other launch of the run the backend still runs (a
    racing attempt's). Returns the recorded cluster's last status (None: there was none)."""
    backend, handle = live_handle(stores, backends, run)
    if backend is None:
        return None
    final = backend.teardown(handle) if handle is not None else None
    for other in backend.find_launches(run.id):
        backend.teardown(other)
    return final
