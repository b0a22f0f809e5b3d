"""The port of notification channels (models/notifications.py): documents owned by a tenant, keyed by
id, listed oldest first. A tenant has few (AutomationSettings.max_channels_per_account), so the
channels that match a run are picked from the tenant's list. Credentials are not here
(adapters/channel_credentials.py).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only
    from load_manager.models.notifications import NotificationChannel
    from load_manager.store.ports.audit import AuditRecord


class NotificationChannelStore(Protocol):
    def insert(self, channel: NotificationChannel, *, audit: AuditRecord | None = None) -> None: ...

    def get(self, account_id: str, channel_id: str) -> NotificationChannel | None: ...

    def list(self, account_id: str, test_id: str | None = None) -> builtins.list[NotificationChannel]:
        """The tenant's channels (those of one test when `test_id` is given), oldest first."""
        ...

    def update(
        self, account_id: str, channel_id: str, changes: dict[str, Any], *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None
    ) -> NotificationChannel | None:
        """Apply field changes (snake_case) in one atomic write and return the new state, or None if absent (or not as `expect` says)."""
        ...

    def delete(self, account_id: str, channel_id: str, *, audit: AuditRecord | None = None, expect: dict[str, Any] | None = None) -> bool: ...

    def list_all(self) -> builtins.list[NotificationChannel]:
        """Every tenant's channels: only to write their EventBridge resources again (the local runtime's start, `sync`)."""
        ...
