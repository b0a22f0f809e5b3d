"""The tenancy ports: which tenant owns which event source, and the quota holds of a tenant's bounded pools."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.automation import EventSource


class EventSourceStore(Protocol):
    """Which tenant owns which event source: (kind, value) is unique across the deployment."""

    def claim(self, source: EventSource) -> EventSource:
        """Store `source` unless its (kind, value) is stored already; return whichever is stored."""
        ...

    def get(self, source_id: str) -> EventSource | None: ...

    def list(self, owner_account_id: str | None) -> builtins.list[EventSource]:
        """One tenant's (or, None, every tenant's), by kind then value."""
        ...

    def delete(self, source_id: str) -> bool: ...


@dataclass(frozen=True)
class Hold:
    member: str  # a run id, a trigger id, a schedule id
    group: str | None  # the load test, for the per-test caps
    at: int  # when it was taken (epoch ms)


class HoldStore(Protocol):
    """Quota holds: a tenant's members of a bounded pool ("runs", "triggers", "schedules"). Taking one
    is a single conditional write, so concurrent takers never exceed a limit (usecases/quotas.py)."""

    def take(self, account_id: str, pool: str, hold: Hold, limit: int, group_limit: int | None) -> bool:
        """Add `hold` if the pool has fewer than `limit` members and its group fewer than `group_limit`;
        True also when the member holds already (retries are safe), False when full."""
        ...

    def release(self, account_id: str, pool: str, member: str) -> None:
        """Drop the member's hold; a missing one is not an error."""
        ...

    def holds(self, account_id: str, pool: str) -> builtins.list[Hold]: ...
