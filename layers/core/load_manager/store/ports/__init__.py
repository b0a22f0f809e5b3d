"""Store ports: one per aggregate. Adapters: `mongo/` (AWS) and `sqlite/` (local default).

Every method takes the tenant (`account_id`) and filters by it: a record of another tenant is
indistinguishable from a missing one.

One module per aggregate (load_tests, revisions, runs with metrics and generators, clusters,
automation, tenancy, idempotency, variables, notifications),
named here too (`LOCATIONS`) with `Stores`: a new aggregate's port is a module of its own in this
package, a line in `LOCATIONS` and a field of `Stores`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below are, for type checkers; at run time __getattr__ imports each when named
    from load_manager.store.ports.audit import AuditRecord as AuditRecord
    from load_manager.store.ports.audit import AuditStore as AuditStore
    from load_manager.store.ports.automation import ScheduleStore as ScheduleStore
    from load_manager.store.ports.automation import TriggerStore as TriggerStore
    from load_manager.store.ports.clusters import ClusterStore as ClusterStore
    from load_manager.store.ports.clusters import scope_key as scope_key
    from load_manager.store.ports.generators import GeneratorReadings as GeneratorReadings
    from load_manager.store.ports.idempotency import IdempotencyRecord as IdempotencyRecord
    from load_manager.store.ports.idempotency import IdempotencyStore as IdempotencyStore
    from load_manager.store.ports.load_tests import LoadTestStore as LoadTestStore
    from load_manager.store.ports.notifications import NotificationChannelStore as NotificationChannelStore
    from load_manager.store.ports.revisions import MAX_APPEND_ATTEMPTS as MAX_APPEND_ATTEMPTS
    from load_manager.store.ports.revisions import RevisionStore as RevisionStore
    from load_manager.store.ports.runs import MetricsStore as MetricsStore
    from load_manager.store.ports.runs import OutboxEvent as OutboxEvent
    from load_manager.store.ports.runs import RunStore as RunStore
    from load_manager.store.ports.tenancy import EventSourceStore as EventSourceStore
    from load_manager.store.ports.tenancy import Hold as Hold
    from load_manager.store.ports.tenancy import HoldStore as HoldStore
    from load_manager.store.ports.tokens import TokenStore as TokenStore
    from load_manager.store.ports.usage import BudgetHold as BudgetHold
    from load_manager.store.ports.usage import UsageStore as UsageStore
    from load_manager.store.ports.variables import VariableStore as VariableStore

# Where each name lives (a module of this package). Imported when first named:
# a function's cold start names a few (OutboxEvent, Hold, IdempotencyRecord), never every port's
# Protocol; importing them all cost each function 3 ms (bench/cold_import.py).
LOCATIONS = {
    "AuditRecord": "load_manager.store.ports.audit",
    "AuditStore": "load_manager.store.ports.audit",
    "GeneratorReadings": "load_manager.store.ports.generators",
    "IdempotencyRecord": "load_manager.store.ports.idempotency",
    "IdempotencyStore": "load_manager.store.ports.idempotency",
    "NotificationChannelStore": "load_manager.store.ports.notifications",
    "ScheduleStore": "load_manager.store.ports.automation",
    "TriggerStore": "load_manager.store.ports.automation",
    "ClusterStore": "load_manager.store.ports.clusters",
    "scope_key": "load_manager.store.ports.clusters",
    "LoadTestStore": "load_manager.store.ports.load_tests",
    "MAX_APPEND_ATTEMPTS": "load_manager.store.ports.revisions",
    "RevisionStore": "load_manager.store.ports.revisions",
    "MetricsStore": "load_manager.store.ports.runs",
    "OutboxEvent": "load_manager.store.ports.runs",
    "RunStore": "load_manager.store.ports.runs",
    "EventSourceStore": "load_manager.store.ports.tenancy",
    "Hold": "load_manager.store.ports.tenancy",
    "HoldStore": "load_manager.store.ports.tenancy",
    "VariableStore": "load_manager.store.ports.variables",
    "TokenStore": "load_manager.store.ports.tokens",
    "BudgetHold": "load_manager.store.ports.usage",
    "UsageStore": "load_manager.store.ports.usage",
}

__all__ = sorted([*LOCATIONS, "Stores"])


def __getattr__(name: str) -> Any:
    if name not in LOCATIONS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(LOCATIONS[name]), name)
    globals()[name] = value  # once: the next lookup is an attribute like any other
    return value


@dataclass
class Stores:
    """One store per aggregate: what an adapter's builder (`build_sqlite_stores`, `build_mongo_stores`) returns."""

    load_tests: LoadTestStore
    revisions: RevisionStore
    runs: RunStore
    metrics: MetricsStore
    clusters: ClusterStore
    idempotency: IdempotencyStore
    triggers: TriggerStore
    schedules: ScheduleStore
    event_sources: EventSourceStore
    holds: HoldStore  # quota holds (usecases/quotas.py)
    variables: VariableStore  # variables and secrets' names and versions (store/ports/variables.py)
    notification_channels: NotificationChannelStore  # store/ports/notifications.py
    tokens: TokenStore  # API tokens (store/ports/tokens.py)
    usage: UsageStore  # usage sums over the runs, and the vCPU budget's holds (store/ports/usage.py)
    audit: AuditStore  # the append-only audit trail (store/ports/audit.py)
