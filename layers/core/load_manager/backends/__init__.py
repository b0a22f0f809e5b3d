"""Locust backends: how a run's Locust cluster is started, watched, collected and torn down.

`base` is the port (stdlib only); `local` runs real Locust processes on this machine; `ecs` runs a
Fargate master and workers; `locust_web` is the client of Locust's web API both use.
"""

from __future__ import annotations

from typing import Any

from load_manager.backends.base import LocustBackend


def backend_for(kind: str, ecs_settings: dict[str, Any] | None = None) -> LocustBackend:
    """The backend of a cluster configuration. Imported lazily: Lambda ships only what it calls."""
    if kind == "local":
        from load_manager.backends.local import LocalLocustBackend

        return LocalLocustBackend()
    if kind == "ecs":
        from load_manager.backends.ecs import EcsLocustBackend

        return EcsLocustBackend.from_cluster_settings(ecs_settings)
    raise ValueError(f"unknown Locust backend {kind!r}")
