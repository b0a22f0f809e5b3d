"""The cluster configurations port: one configuration per scope of a tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.clusters import ClusterConfig


def scope_key(config: ClusterConfig) -> str:
    """The unique key of a configuration's scope within its account, e.g. `org/*/*`."""
    return "/".join(part or "*" for part in (config.org_id, config.project_id, config.env_id))


class ClusterStore(Protocol):
    def put(self, config: ClusterConfig) -> ClusterConfig:
        """Upsert by scope (account, org, project, env); keeps the id of an existing config."""
        ...

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None: ...

    def list(self, account_id: str) -> list[ClusterConfig]: ...

    def delete(self, account_id: str, cluster_id: str) -> bool: ...
