"""The cluster configurations port: one configuration per scope of a tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.clusters import ClusterConfig
    from load_manager.store.ports.audit import AuditRecord


def scope_key(config: ClusterConfig) -> str:
    """The unique key of a configuration's scope within its account, e.g. `org/*/*`."""
    return "/".join(part or "*" for part in (config.org_id, config.project_id, config.env_id))


class ClusterStore(Protocol):
    def put(self, config: ClusterConfig, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> ClusterConfig | None:
        """Upsert by scope (account, org, project, env); keeps the id of an existing config. With
        `expect`, only while the scope's stored configuration has those values (an empty `expect`:
        while the scope has none); None otherwise."""
        ...

    def get(self, account_id: str, cluster_id: str) -> ClusterConfig | None: ...

    def list(self, account_id: str) -> list[ClusterConfig]: ...

    def delete(self, account_id: str, cluster_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool: ...
