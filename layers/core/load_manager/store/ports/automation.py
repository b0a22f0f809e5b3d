"""The automation ports: triggers (EventBridge rules) and schedules (EventBridge Scheduler)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.automation import Schedule, ScheduleOccurrence, Trigger, TriggerFiring
    from load_manager.store.ports.audit import AuditRecord


class TriggerStore(Protocol):
    def insert(self, trigger: Trigger, *, audit: AuditRecord | None = None) -> None: ...

    def get(self, account_id: str, test_id: str, trigger_id: str) -> Trigger | None: ...

    def list(self, account_id: str, test_id: str) -> builtins.list[Trigger]:
        """Oldest first (a test has few: see AutomationSettings.max_per_test)."""
        ...

    def count(self, account_id: str, test_id: str | None = None) -> int: ...

    def update(
        self, account_id: str, test_id: str, trigger_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> Trigger | None:
        """Apply field changes (snake_case) and return the new state, or None if absent (or not as `expect` says)."""
        ...

    def delete(
        self, account_id: str, test_id: str, trigger_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> bool: ...

    def record_firing(self, account_id: str, trigger_id: str, firing: TriggerFiring, keep: int) -> None:
        """Prepend to `lastFirings`, keeping the newest `keep` (one atomic write)."""
        ...

    def list_all(self) -> builtins.list[Trigger]:
        """Every tenant's triggers: only to re-create rules (the local runtime's start, `sync`)."""
        ...


class ScheduleStore(Protocol):
    def insert(self, schedule: Schedule, *, audit: AuditRecord | None = None) -> None: ...

    def get(self, account_id: str, test_id: str, schedule_id: str) -> Schedule | None: ...

    def list(self, account_id: str, test_id: str) -> builtins.list[Schedule]:
        """Oldest first."""
        ...

    def count(self, account_id: str, test_id: str | None = None) -> int: ...

    def update(
        self, account_id: str, test_id: str, schedule_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None,
        expect: dict[str, Any] | None = None,
    ) -> Schedule | None:
        """Apply field changes (snake_case) and return the new state, or None if absent (or not as `expect` says)."""
        ...

    def delete(
        self, account_id: str, test_id: str, schedule_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> bool: ...

    def record_occurrence(self, account_id: str, schedule_id: str, occurrence: ScheduleOccurrence, keep: int) -> None:
        """Prepend to `occurrences`, keeping the newest `keep` (one atomic write)."""
        ...

    def list_all(self) -> builtins.list[Schedule]:
        """Every tenant's schedules: only to re-create them in Scheduler (local start, `sync`)."""
        ...
