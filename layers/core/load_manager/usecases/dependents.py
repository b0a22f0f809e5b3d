"""What belongs to one load test only, and goes when the test is deleted: its triggers (an EventBridge
rule each), its schedules (an EventBridge Scheduler schedule each), its own variables and secrets (a
secret's values in the vault) and its own notification channels (their EventBridge resources and
credentials). Entries and channels of an account, org, project or env are the tenant's, not one
test's: they stay.

`load_tests.delete` deletes the test's record first (409 while a run is active, its audit record),
and the same write marks the test as awaiting cleanup (store/ports/load_tests.py). Then `after_delete`
removes each dependent through its own delete use case, so a rule, a schedule or a secret's value
goes exactly as when a person deletes it, and each removal's audit record is the caller's (their
delete did it). One that fails (the bus or the vault unreachable, a denied call) is logged and left:
the test is gone and the DELETE answers 204 all the same. So is what a time budget leaves.

The sweeper (lifecycle/sweeper.py) then takes the marked tests deleted more than its grace period
ago (one indexed read: `awaiting_cleanup`), removes what is left of each as `system`, and takes the
mark away once nothing is left. It visits every deleted test once even when the DELETE removed all:
a dependent created by a request that found the test just before it was deleted goes too.

A delivery already on its way for a deleted test records LoadTestNotFound on its trigger or schedule
while that exists (usecases/firing.py), and is ignored once it is gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from load_manager.access import ADMIN
from load_manager.adapters.eventbridge import default_rules
from load_manager.adapters.notification_targets import default_targets
from load_manager.adapters.scheduler import default_schedules
from load_manager.adapters.vault import SecretVault
from load_manager.adapters.vaults import get_vault
from load_manager.errors import NotFoundError
from load_manager.identity import Caller
from load_manager.observability import count, logger
from load_manager.store import Stores
from load_manager.usecases import notification_channels, schedules, triggers, variables
from load_manager.usecases.notification_channels import TargetsFactory
from load_manager.usecases.schedules import SchedulesFactory
from load_manager.usecases.triggers import RulesFactory

SYSTEM = "system"  # the sweeper's removals are recorded as the platform's (as its ends of runs are)
INLINE_BUDGET_SECONDS = 10.0  # of the DELETE's time (its function's timeout: 30 s); the sweeper does the rest
SWEEP_BUDGET_SECONDS = 60.0  # of a sweep's time (its function's timeout: 300 s)


@dataclass(frozen=True)
class Reach:
    """Where the dependents live besides the store: factories, so nothing is built (no client, no
    vault) for a test that has none of that kind."""

    rules: RulesFactory
    schedules: SchedulesFactory
    vault: Callable[[], SecretVault]
    targets: TargetsFactory


def deployment_reach() -> Reach:
    """The deployment's own bus, Scheduler, vault and channel targets (as each area's routes use them)."""
    return Reach(rules=default_rules, schedules=default_schedules, vault=get_vault, targets=default_targets)


@dataclass
class Removal:
    removed: list[str] = field(default_factory=list)  # "<kind>/<id>"
    failed: list[str] = field(default_factory=list)
    unfinished: bool = False  # the time budget ran out first

    @property
    def complete(self) -> bool:
        return not self.failed and not self.unfinished


def remove(stores: Stores, reach: Reach, caller: Caller, test_id: str, budget_seconds: float) -> Removal:
    """Remove every dependent of the (deleted) test `test_id` of the caller's tenant, each on its own:
    one failing does not keep the others. One gone meanwhile (its own DELETE, another sweep) is done."""
    removal, deadline = Removal(), time.monotonic() + budget_seconds
    for what, delete in _dependents(stores, reach, caller, test_id):
        if time.monotonic() > deadline:
            removal.unfinished = True
            break
        try:
            delete()
        except NotFoundError:
            continue
        except Exception:
            logger.exception("could not remove what a deleted load test left", extra={"loadTestId": test_id, "dependent": what})
            removal.failed.append(what)
            continue
        removal.removed.append(what)
    return removal


def _dependents(stores: Stores, reach: Reach, caller: Caller, test_id: str) -> Iterator[tuple[str, Callable[[], None]]]:
    """Each dependent with how to delete it: the indexed reads by test (triggers, schedules, the
    tenant's channels of the test), and the test's entries among the tenant's (at most 500 of each kind)."""
    account = caller.account_id
    for trigger in stores.triggers.list(account, test_id):
        yield f"trigger/{trigger.id}", partial(triggers.delete, stores, reach.rules, caller, test_id, trigger.id)
    for schedule in stores.schedules.list(account, test_id):
        yield f"schedule/{schedule.id}", partial(schedules.delete, stores, reach.schedules, caller, test_id, schedule.id)
    for entry in [e for e in stores.variables.list(account) if e.test_id == test_id]:
        vault = reach.vault if entry.kind == "secret" else None
        yield f"{entry.kind}/{entry.id}", partial(variables.delete_test_entry, stores, vault, caller, entry)
    for channel in stores.notification_channels.list(account, test_id):
        yield f"notificationChannel/{channel.id}", partial(notification_channels.delete, stores, reach.targets, caller, channel.id)


def after_delete(stores: Stores, reach: Reach | None, caller: Caller, test_id: str) -> Removal:
    """Right after the test's deletion, as the caller: never raises (the test is gone; the sweeper
    removes what is left)."""
    try:
        removal = remove(stores, reach or deployment_reach(), caller, test_id, INLINE_BUDGET_SECONDS)
    except Exception:  # a read of the store failed: all of it is left to the sweeper
        logger.exception("could not remove what a deleted load test left; the sweeper will", extra={"loadTestId": test_id})
        return Removal(unfinished=True)
    if not removal.complete:
        count("DeletedTestLeftovers")
        logger.warning(
            "a deleted load test left dependents the sweeper will remove",
            extra={"loadTestId": test_id, "failed": removal.failed, "unfinished": removal.unfinished},
        )
    return removal


def sweep(stores: Stores, reach: Reach | None, tests: list[tuple[str, str]]) -> tuple[list[str], int]:
    """The sweeper's pass over deleted tests awaiting cleanup (oldest first): what is left of each is
    removed as `system`, and a test left with nothing is taken off the list. Returns what was removed
    ("<test id>/<kind>/<id>") and how many removals failed."""
    reach = reach or deployment_reach()
    removed: list[str] = []
    failures, deadline = 0, time.monotonic() + SWEEP_BUDGET_SECONDS
    for account_id, test_id in tests:
        left = deadline - time.monotonic()
        if left <= 0:
            break  # the next sweep takes the rest
        system = Caller(subject=SYSTEM, email=None, account_id=account_id, groups=frozenset(), role=ADMIN)
        removal = remove(stores, reach, system, test_id, left)
        removed += [f"{test_id}/{what}" for what in removal.removed]
        failures += len(removal.failed)
        if removal.complete:
            stores.load_tests.cleaned_up(account_id, test_id)
    return removed, failures
