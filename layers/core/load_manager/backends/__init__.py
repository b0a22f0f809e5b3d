"""Locust backends: how a run's Locust cluster is started, watched, collected and torn down.

`base` is the port (stdlib only); `web_backend` what every backend driving Locust's web API shares;
`local` runs real Locust processes on this machine; `ecs` runs a Fargate master and workers;
`locust_web` is the web API client and `locust_stats` parses its answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from load_manager.backends.base import LocalBackendRefusedError, LocustBackend
from load_manager.settings import get_settings

if TYPE_CHECKING:  # pragma: no cover
    from load_manager.models.clusters import ClusterConfig

# What the lifecycle steps take to reach a run's cluster: tests inject their own.
BackendFactory = Callable[["ClusterConfig"], LocustBackend]


def backend_for(cluster: ClusterConfig) -> LocustBackend:
    """The backend of a cluster configuration, imported on first use: a process pays only for its own."""
    if cluster.backend == "local":
        from load_manager.backends.local import LocalLocustBackend  # lazy: 83 ms at import (bench/cold_import.py --lazy)

        if get_settings().in_lambda:
            raise LocalBackendRefusedError()
        # Environments built for bundles' requirements.txt live with the data, reused across runs.
        return LocalLocustBackend(env_cache_dir=os.path.join(get_settings().data_dir, "envs"))
    if cluster.backend == "ecs":
        from load_manager.backends.ecs import EcsLocustBackend, EcsSettings  # lazy: with boto3, 68 ms at import (bench/cold_import.py --lazy)

        configured = cluster.ecs.model_dump() if cluster.ecs else None
        defaults = get_settings().ecs
        return EcsLocustBackend(EcsSettings.for_cluster(configured, defaults), group_delete_timeout=defaults.group_delete_timeout_seconds)
    raise ValueError(f"unknown Locust backend {cluster.backend!r}")
