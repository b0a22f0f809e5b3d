"""Notification channels and the outbox's added events, on every store adapter: a tenant sees only
its own channels, a test's list is that test's, a change is one merge, and events added to a run's
outbox after its status change keep their ids unique and come after the events already there."""

from __future__ import annotations

from contract.test_run_store_contract import change, make_run

from load_manager.ids import new_id
from load_manager.models.notifications import NotificationChannel
from load_manager.store.ports import OutboxEvent


def channel(account: str = "acct", *, test_id: str | None = None, created_at: int = 1000, **fields) -> NotificationChannel:
    channel_id = new_id()
    return NotificationChannel(
        id=channel_id, account_id=account, name="team chat", kind="slack", filter="failed", enabled=True, test_id=test_id,
        endpoint_host="hooks.slack.com", rule_name=f"lm-trigger-n-{channel_id}", created_at=created_at, created_by="ann@example.com", **fields,
    )  # fmt: skip


def test_channels_are_kept_per_tenant_oldest_first_and_per_test(any_stores):
    test_id = new_id()
    first, second, other = channel(created_at=1000, org_id="shop"), channel(test_id=test_id, created_at=2000), channel("acct2", created_at=1500)
    for item in (second, first, other):
        any_stores.notification_channels.insert(item)
    assert [c.id for c in any_stores.notification_channels.list("acct")] == [first.id, second.id]
    assert [c.id for c in any_stores.notification_channels.list("acct", test_id)] == [second.id]
    assert any_stores.notification_channels.list("acct", new_id()) == []
    assert any_stores.notification_channels.get("acct", first.id) == first
    assert any_stores.notification_channels.get("acct2", first.id) is None  # another tenant's is missing
    assert [c.id for c in any_stores.notification_channels.list_all()] == [first.id, other.id, second.id]


def test_a_change_merges_and_a_delete_is_per_tenant(any_stores):
    item = channel()
    any_stores.notification_channels.insert(item)
    assert any_stores.notification_channels.update("acct2", item.id, {"enabled": False}) is None
    changed = any_stores.notification_channels.update("acct", item.id, {"enabled": False, "updated_at": 5, "updated_by": "bo"})
    assert changed is not None and (changed.enabled, changed.updated_by, changed.name) == (False, "bo", "team chat")
    assert any_stores.notification_channels.get("acct", item.id) == changed
    assert any_stores.notification_channels.update("acct", new_id(), {"enabled": True}) is None
    assert not any_stores.notification_channels.delete("acct2", item.id)
    assert any_stores.notification_channels.delete("acct", item.id)
    assert any_stores.notification_channels.get("acct", item.id) is None
    assert not any_stores.notification_channels.delete("acct", item.id)


def test_events_added_to_a_final_runs_outbox_follow_its_own_and_are_added_once(any_stores):
    run = make_run(status="Running")
    any_stores.runs.insert(run)
    finished = OutboxEvent(f"{run.id}:RunFinished", "RunFinished", "Failed", 3000)
    any_stores.runs.transition("acct", run.id, {"Running"}, change("Failed", at=3000), events=[finished])
    notices = [OutboxEvent(f"{run.id}:Notify:{n}", "NotificationRequested", "Failed", 3001) for n in ("b", "a")]
    any_stores.runs.add_events("acct", run.id, notices)
    any_stores.runs.add_events("acct", run.id, [notices[1], OutboxEvent(notices[0].event_id, "NotificationRequested", "Failed", 1)])  # again
    assert any_stores.runs.pending_events("acct", run.id) == [finished, *notices]
    assert any_stores.runs.pending_events("acct2", run.id) == []
    any_stores.runs.event_sent("acct", run.id, finished.event_id)
    assert any_stores.runs.pending_events("acct", run.id) == notices
    assert ("acct", run.id) in any_stores.runs.with_pending_events(written_before=4000, limit=10)
