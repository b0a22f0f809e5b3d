"""Event triggers: `{"name", "eventPattern", "runSettings"}` per test; EventBridge does the matching.

Each trigger is one rule on the stack's bus (adapters/eventbridge.py). The rule is written first,
then the record: a refused pattern or a full bus leaves nothing behind, and a record never points
at a rule that does not exist. Deleting removes the rule first, so a failure leaves the record to
retry the delete with. A test's triggers outlive the test (its events are then recorded as
failed with LoadTestNotFound) until they are deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from load_manager.adapters.eventbridge import EventRules
from load_manager.automation_models import CreateTriggerRequest, Trigger, TriggerList
from load_manager.errors import AutomationLimitError, TriggerNotFoundError
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases import load_tests, runs

RulesFactory = Callable[[], EventRules]


def rule_name(trigger_id: str) -> str:
    return f"{get_settings().automation.rule_prefix}{trigger_id}"


def rule_reference(trigger: Trigger) -> dict[str, str]:
    """What the rule's target sends the triggers function besides the event."""
    return {"triggerId": trigger.id, "accountId": trigger.account_id, "loadTestId": trigger.load_test_id}


def create(stores: Stores, rules: RulesFactory, caller: Caller, test_id: str, request: CreateTriggerRequest) -> Trigger:
    test = load_tests.get(stores, caller, test_id)
    _check_limits(stores, caller.account_id, test.id)
    runs.check_request(stores, caller, test, request.run_settings)  # a trigger that could never start a run is a 4xx now
    trigger_id = new_id()
    trigger = Trigger(
        id=trigger_id,
        account_id=caller.account_id,
        load_test_id=test.id,
        name=request.name,
        description=request.description,
        event_pattern=request.event_pattern,
        run_settings=request.run_settings,
        rule_name=rule_name(trigger_id),
        event_bus_name=get_settings().automation.event_bus_name,
        created_at=now_ms(),
        created_by=caller.actor,
    )
    bus = rules()
    bus.put(trigger.rule_name, trigger.event_pattern, rule_reference(trigger), f"Load Manager trigger {trigger.name!r} of test {test.id}")
    try:
        stores.triggers.insert(trigger)
    except BaseException:
        bus.delete(trigger.rule_name)
        raise
    return trigger


def _check_limits(stores: Stores, account_id: str, test_id: str) -> None:
    # Soft caps (two concurrent creations may pass together): they keep one tenant, or one test,
    # from filling the bus's rule quota that every tenant shares.
    automation = get_settings().automation
    if stores.triggers.count(account_id, test_id) >= automation.max_per_test:
        raise AutomationLimitError(f"a test has at most {automation.max_per_test} triggers", details={"limit": automation.max_per_test})
    if stores.triggers.count(account_id) >= automation.max_triggers_per_account:
        limit = automation.max_triggers_per_account
        raise AutomationLimitError(f"an account has at most {limit} triggers", details={"limit": limit})


def get(stores: Stores, caller: Caller, test_id: str, trigger_id: str) -> Trigger:
    trigger = stores.triggers.get(caller.account_id, test_id, trigger_id) if is_id(test_id) and is_id(trigger_id) else None
    if trigger is None:
        raise TriggerNotFoundError(f"trigger {trigger_id!r} of load test {test_id!r} not found")
    return trigger


def list_for_test(stores: Stores, caller: Caller, test_id: str) -> TriggerList:
    items = stores.triggers.list(caller.account_id, test_id) if is_id(test_id) else []
    if not items:
        load_tests.get(stores, caller, test_id)  # 404 for an unknown test; a deleted test keeps listing its triggers
    return TriggerList(items=items)


def delete(stores: Stores, rules: RulesFactory, caller: Caller, test_id: str, trigger_id: str) -> None:
    trigger = get(stores, caller, test_id, trigger_id)
    rules().delete(trigger.rule_name)
    stores.triggers.delete(caller.account_id, test_id, trigger_id)


def resync(stores: Stores, rules: RulesFactory) -> int:
    """Write every stored trigger's rule again (the local runtime's start; `{"action": "sync"}`)."""
    bus = rules()
    triggers = stores.triggers.list_all()
    for trigger in triggers:
        bus.put(trigger.rule_name, trigger.event_pattern, rule_reference(trigger), f"Load Manager trigger {trigger.name!r}")
    return len(triggers)
