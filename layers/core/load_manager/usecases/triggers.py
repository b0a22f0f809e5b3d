"""Event triggers: `{"name", "eventPattern", "runSettings"}` per test; EventBridge does the matching.

Each trigger is one rule on the stack's bus (adapters/eventbridge.py) whose pattern is the
trigger's AND its tenant's constraint (usecases/event_tenancy.py): the bus is shared, and a
trigger sees only its own tenant's events. The stored `eventPattern` is the tenant's; the rule's is
derived from it and from what the tenant owns, and written again when that changes.

Creating: validate (pattern, run settings), take a quota hold (caps per tenant and per test hold
under concurrent creation), write the rule, then the record; a failure undoes what was done, so a
refused pattern or a full bus leaves nothing behind and a record never points at a missing rule.
Deleting removes the rule first, so a failure leaves the record to retry the delete with. A test's
triggers outlive the test (its events are then recorded as failed with LoadTestNotFound) until they
are deleted.

Changing (PATCH): the fields sent are merged into the trigger, which is then checked as a whole
(run settings against the test; a new pattern against the tenant's constraint, then by EventBridge
itself, by writing the rule, before anything is stored). The record is written (one atomic merge:
concurrent PATCHes of different fields all land), then the rule is written again from the record
as stored, and read back until a read after the write finds the record unchanged: whichever of
several concurrent PATCHes writes its rule last, the rule ends as the record says. `enabled` is the
rule's state (a disabled rule matches nothing; a delivery already on its way is skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from load_manager.adapters.eventbridge import EventRules, rule_name
from load_manager.errors import BadRequestError, TriggerNotFoundError, UnprocessableError
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.models.automation import CreateTriggerRequest, Trigger, TriggerList, UpdateTriggerRequest
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases import audit, event_sources, quotas
from load_manager.usecases.event_tenancy import NOTHING_OWNED, constrain
from load_manager.usecases.reads import get_test
from load_manager.usecases.retention import refuse_pruned_pin

if TYPE_CHECKING:  # annotations only
    from load_manager.models.load_tests import LoadTest
    from load_manager.models.runs import Run, StartRunRequest

RulesFactory = Callable[[], EventRules]
SETTLE_ATTEMPTS = 5  # rule writes a PATCH makes at most while other PATCHes of the trigger keep landing


def rule_reference(trigger: Trigger) -> dict[str, str]:
    """What the rule's target sends the triggers function besides the event."""
    return {"triggerId": trigger.id, "accountId": trigger.account_id, "loadTestId": trigger.load_test_id}


def rule_pattern(stores: Stores, trigger: Trigger, *, strict: bool = False) -> dict:
    """What the rule matches: the trigger's pattern AND its tenant's constraint (what it owns now).

    Not strict (rewriting): a pattern stored before tenants were enforced that cannot be constrained
    gets a rule that matches nothing (logged): recreate that trigger with a pattern that names its source."""
    try:
        return constrain(trigger.event_pattern, trigger.account_id, event_sources.owned(stores, trigger.account_id), strict=strict)
    except UnprocessableError:
        if strict:
            raise
        logger.warning("a trigger's pattern cannot be limited to its tenant: its rule matches nothing", extra={"triggerId": trigger.id})
        count("TriggerRulesDisabled")
        return {"source": [NOTHING_OWNED]}


def create(stores: Stores, rules: RulesFactory, caller: Caller, test_id: str, request: CreateTriggerRequest) -> Trigger:
    test = _test(stores, caller, test_id)
    _check_run(stores, caller, test, request.run_settings)  # a trigger that could never start a run is a 4xx now
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
        enabled=request.enabled,
    )
    pattern = rule_pattern(stores, trigger, strict=True)  # 422 for a pattern that could see another tenant's events
    bus = rules()  # 503 without a bus, before anything is written
    quotas.seed_automation_holds(stores, quotas.TRIGGERS, caller.account_id, lambda: _of_account(stores, caller.account_id))
    quotas.take_automation(stores, quotas.TRIGGERS, caller.account_id, test.id, trigger.id, _exists(stores, caller.account_id))
    try:
        bus.put(trigger.rule_name, pattern, rule_reference(trigger), _describe(trigger), enabled=trigger.enabled)
        try:
            stores.triggers.insert(trigger, audit=audit.change(caller, "trigger.create", trigger.id, load_test_id=test.id, after=trigger))
            refuse_pruned_pin(stores, trigger.account_id, trigger.load_test_id, trigger.run_settings.revision)
        except BaseException:  # a trigger stored is taken back, on the record too
            undone = audit.change(caller, "trigger.delete", trigger.id, load_test_id=test.id, before=trigger)
            stores.triggers.delete(trigger.account_id, trigger.load_test_id, trigger.id, audit=undone)
            bus.delete(trigger.rule_name)
            raise
    except BaseException:
        quotas.release(stores, quotas.TRIGGERS, caller.account_id, trigger.id)
        raise
    return trigger


def _exists(stores: Stores, account_id: str):
    return lambda test_id, trigger_id: stores.triggers.get(account_id, test_id, trigger_id) is not None


def _of_account(stores: Stores, account_id: str) -> list[Trigger]:
    return [t for t in stores.triggers.list_all() if t.account_id == account_id] if stores.triggers.count(account_id) else []


def get(stores: Stores, caller: Caller, test_id: str, trigger_id: str) -> Trigger:
    trigger = stores.triggers.get(caller.account_id, test_id, trigger_id) if is_id(test_id) and is_id(trigger_id) else None
    if trigger is None or not caller.sees_test(test_id):
        raise TriggerNotFoundError(f"trigger {trigger_id!r} of load test {test_id!r} not found")
    return trigger


def list_for_test(stores: Stores, caller: Caller, test_id: str) -> TriggerList:
    items = stores.triggers.list(caller.account_id, test_id) if is_id(test_id) and caller.sees_test(test_id) else []
    if not items:
        _test(stores, caller, test_id)  # 404 for an unknown (or unseen) test; a deleted test keeps listing its triggers
    return TriggerList(items=items)


def update(stores: Stores, rules: RulesFactory, caller: Caller, test_id: str, trigger_id: str, request: UpdateTriggerRequest) -> Trigger:
    current = get(stores, caller, test_id, trigger_id)
    sent = {name: getattr(request, name) for name in request.model_fields_set}
    if not sent:
        raise BadRequestError("the body changes nothing: send at least one field", code="EmptyUpdate")
    changed = current.model_copy(update=sent)
    _check_run(stores, caller, _test(stores, caller, test_id), changed.run_settings)
    bus = rules()  # 503 without a bus, before anything is written
    if "event_pattern" in sent:
        _rewrite_rule(stores, bus, changed, current)

    def read() -> Trigger:
        latest = stores.triggers.get(caller.account_id, test_id, trigger_id)
        if latest is None:
            bus.delete(current.rule_name)  # deleted meanwhile: the rule written above goes too
            raise TriggerNotFoundError(f"trigger {trigger_id!r} was deleted meanwhile")
        return latest

    def write(latest: Trigger) -> Trigger | None:  # one atomic merge of the fields sent: concurrent PATCHes of others all land
        changes = sent | {"updated_at": audit.stamp(latest.updated_at), "updated_by": caller.actor}
        after = audit.merged(latest, changes)
        record = audit.change(caller, "trigger.update", trigger_id, load_test_id=test_id, before=latest, after=after, changed=sent)
        return stores.triggers.update(caller.account_id, test_id, trigger_id, changes, audit=record, expect={"updated_at": latest.updated_at})

    stored = audit.until_written(read, write, "trigger")
    try:
        refuse_pruned_pin(stores, caller.account_id, test_id, stored.run_settings.revision)
    except BaseException:  # pruned meanwhile: the trigger goes back to what it was (a change of its own, on the record)
        back = {field: getattr(current, field) for field in [*sent, "updated_at", "updated_by"]}
        undo = audit.change(caller, "trigger.update", trigger_id, load_test_id=test_id, before=stored, after=audit.merged(stored, back), changed=sent)
        stores.triggers.update(caller.account_id, test_id, trigger_id, back, audit=undo)
        _settle_rule(stores, bus, current)
        raise
    return _settle_rule(stores, bus, stored)


def _describe(trigger: Trigger) -> str:
    return f"Load Manager trigger {trigger.name!r} of test {trigger.load_test_id}"


def _put_rule(stores: Stores, bus: EventRules, trigger: Trigger) -> None:
    bus.put(trigger.rule_name, rule_pattern(stores, trigger), rule_reference(trigger), _describe(trigger), enabled=trigger.enabled)


def _rewrite_rule(stores: Stores, bus: EventRules, changed: Trigger, current: Trigger) -> None:
    """The changed pattern through the tenant's constraint (422) and EventBridge's own judgement:
    refused, the rule is put back as the stored trigger has it (best effort) and nothing is stored."""
    pattern = rule_pattern(stores, changed, strict=True)
    try:
        bus.put(changed.rule_name, pattern, rule_reference(changed), _describe(changed), enabled=changed.enabled)
    except BaseException:
        try:
            _put_rule(stores, bus, current)
        except Exception:  # the refusal is what the caller needs; a rule left behind is logged
            logger.exception("could not put a trigger's rule back after a refused change", extra={"triggerId": current.id})
        raise


def _rule_of(trigger: Trigger) -> tuple:
    return trigger.name, trigger.event_pattern, trigger.enabled


def _settle_rule(stores: Stores, bus: EventRules, trigger: Trigger) -> Trigger:
    """Write the rule from the record as stored until a read after the write finds the record's rule
    fields unchanged, so the last write of the rule is always of the latest record."""
    latest: Trigger | None = trigger
    for _ in range(SETTLE_ATTEMPTS):
        if latest is None:  # deleted meanwhile: its rule goes with it
            bus.delete(trigger.rule_name)
            raise TriggerNotFoundError(f"trigger {trigger.id!r} was deleted meanwhile")
        _put_rule(stores, bus, latest)
        again = stores.triggers.get(trigger.account_id, trigger.load_test_id, trigger.id)
        if again is not None and _rule_of(again) == _rule_of(latest):
            return again
        latest = again
    count("TriggerRulesUnsettled")  # changed on every read: the next change (or `sync`) writes it again
    logger.warning("a trigger kept changing while its rule was written", extra={"triggerId": trigger.id})
    return latest or trigger


def delete(stores: Stores, rules: RulesFactory, caller: Caller, test_id: str, trigger_id: str) -> None:
    trigger = get(stores, caller, test_id, trigger_id)
    rules().delete(trigger.rule_name)

    def write(latest: Trigger | None) -> bool | None:  # gone meanwhile: deleted by another request, and recorded by it
        record = audit.change(caller, "trigger.delete", trigger_id, load_test_id=test_id, before=latest)
        expect = {"updated_at": latest.updated_at} if latest else None
        return latest is None or stores.triggers.delete(caller.account_id, test_id, trigger_id, audit=record, expect=expect) or None

    audit.until_written(lambda: stores.triggers.get(caller.account_id, test_id, trigger_id), write, "trigger")
    quotas.release(stores, quotas.TRIGGERS, caller.account_id, trigger_id)


def resync(stores: Stores, rules: RulesFactory, account_id: str | None = None) -> int:
    """Write stored triggers' rules again, from each trigger's pattern and what its tenant owns now:
    every tenant's (the local runtime's start; `{"action": "sync"}`) or one's (its ownership changed)."""
    triggers = [t for t in stores.triggers.list_all() if account_id is None or t.account_id == account_id]
    if not triggers:
        return 0
    bus = rules()
    for trigger in triggers:
        bus.put(trigger.rule_name, rule_pattern(stores, trigger), rule_reference(trigger), _describe(trigger), enabled=trigger.enabled)
    return len(triggers)


def _test(stores: Stores, caller: Caller, test_id: str) -> LoadTest:
    """The caller's load test (404 if it has none)."""
    return get_test(stores, caller, test_id)


def _check_run(stores: Stores, caller: Caller, test: LoadTest, settings: StartRunRequest) -> Run:
    """The run these settings would start, checked as a start checks it (4xx now, not at each firing)."""
    from load_manager.usecases import runs  # lazy: the runs use case costs 6 ms at import (bench/cold_import.py --lazy)

    return runs.check_request(stores, caller, test, settings)
