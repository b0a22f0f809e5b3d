"""The contract of `TriggerStore.update` (a trigger's PATCH) on every store adapter: only the fields
given change, tenant-scoped, and concurrent changes of different fields all land."""

from __future__ import annotations

import threading

from load_manager.ids import new_id
from load_manager.models.automation import Trigger, TriggerFiring
from load_manager.models.runs import StartRunRequest


def make_trigger(account: str = "acct") -> Trigger:
    return Trigger(
        id=new_id(), account_id=account, load_test_id="t" * 32, name="n", event_pattern={"source": ["load-manager"]},
        run_settings=StartRunRequest(duration_seconds=5), rule_name="lm-trigger-x", event_bus_name="bus", created_at=1, created_by="a@x",
    )  # fmt: skip


def test_update_changes_only_the_given_fields_and_is_tenant_scoped(any_stores):
    trigger = make_trigger()
    any_stores.triggers.insert(trigger)
    firing = TriggerFiring(at=2, event_id="e", outcome="started", run_id="r")
    any_stores.triggers.record_firing("acct", trigger.id, firing, 20)
    settings = StartRunRequest(target_users=3)
    updated = any_stores.triggers.update("acct", trigger.load_test_id, trigger.id, {"enabled": False, "run_settings": settings, "updated_at": 3})
    assert updated == trigger.model_copy(update={"enabled": False, "run_settings": settings, "updated_at": 3, "last_firings": [firing]})
    assert any_stores.triggers.get("acct", trigger.load_test_id, trigger.id) == updated
    assert any_stores.triggers.update("other", trigger.load_test_id, trigger.id, {"enabled": True}) is None
    assert any_stores.triggers.update("acct", trigger.load_test_id, "0" * 32, {"enabled": True}) is None
    assert any_stores.triggers.get("acct", trigger.load_test_id, trigger.id).enabled is False


def test_concurrent_updates_of_different_fields_all_land(any_stores):
    trigger = make_trigger()
    any_stores.triggers.insert(trigger)
    changes = [{"name": "renamed"}, {"enabled": False}, {"description": "d"}, {"updated_by": "b@x"}] * 5
    threads = [threading.Thread(target=any_stores.triggers.update, args=("acct", trigger.load_test_id, trigger.id, c)) for c in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = any_stores.triggers.get("acct", trigger.load_test_id, trigger.id)
    assert (stored.name, stored.enabled, stored.description, stored.updated_by) == ("renamed", False, "d", "b@x")
