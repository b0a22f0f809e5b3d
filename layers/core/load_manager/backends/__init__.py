"""Locust backends: how a run's Locust cluster is started, watched, collected and torn down.

`base` is the port (stdlib only); `web_backend` what every backend driving Locust's web API shares;
`local` runs real Locust processes on this machine; `ecs` runs a Fargate master and workers;
`locust_web` is the web API client and `locust_stats` parses its answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from load_manager.backends.base import LocustBackend

if TYPE_CHECKING:  # pragma: no cover
    from load_manager.models import ClusterConfig

# What the lifecycle steps take to reach a run's cluster: tests inject their own.
BackendFactory = Callable[["ClusterConfig"], LocustBackend]


def backend_for(cluster: ClusterConfig) -> LocustBackend:
    """The backend of a cluster configuration. Imported lazily: Lambda ships only what it calls."""
    if cluster.backend == "local":
        import os

        from load_manager.backends.base import LocalBackendRefusedError
        from load_manager.backends.local import LocalLocustBackend
        from load_manager.settings import get_settings

        if get_settings().in_lambda:
            raise LocalBackendRefusedError()
        # Environments built for bundles' requirements.txt live with the data, reused across runs.
        return LocalLocustBackend(env_cache_dir=os.path.join(get_settings().data_dir, "envs"))
    if cluster.backend == "ecs":
        from load_manager.backends.ecs import EcsLocustBackend, EcsSettings
        from load_manager.settings import get_settings

        configured = cluster.ecs.model_dump() if cluster.ecs else None
        return EcsLocustBackend(EcsSettings.for_cluster(configured, get_settings().ecs))
    raise ValueError(f"unknown Locust backend {cluster.backend!r}")
