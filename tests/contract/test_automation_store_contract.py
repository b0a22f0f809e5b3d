"""The contract of what runs without a human stores, on every adapter: triggers and schedules (with
their bounded firing records), the run queries they need, and revision retention's tombstones."""

from __future__ import annotations

import threading

from contract.test_run_store_contract import make_run

from load_manager.ids import new_id
from load_manager.models.automation import Schedule, ScheduleOccurrence, Trigger, TriggerFiring
from load_manager.models.records import StoredRevision
from load_manager.models.runs import StartRunRequest

TEST = "t" * 32


def make_trigger(account: str = "acct", test_id: str = TEST, created_at: int = 1000) -> Trigger:
    trigger_id = new_id()
    return Trigger(
        id=trigger_id, account_id=account, load_test_id=test_id, name="after deploy",
        event_pattern={"source": ["aws.codedeploy"], "detail": {"state": ["SUCCESS"]}},
        run_settings=StartRunRequest.model_validate({"targetUsers": 3, "durationSeconds": 30}),
        rule_name=f"lm-trigger-{trigger_id}", event_bus_name="bus", created_at=created_at, created_by="a@x",
    )  # fmt: skip


def make_schedule(account: str = "acct", test_id: str = TEST, created_at: int = 1000) -> Schedule:
    schedule_id = new_id()
    return Schedule(
        id=schedule_id, account_id=account, load_test_id=test_id, name="nightly", cron="0 2 * * *", timezone="Europe/Paris",
        enabled=True, run_settings=StartRunRequest.model_validate({"durationSeconds": 600}), expression="cron(0 2 * * ? *)",
        scheduler_name=f"lm-trigger-{schedule_id}", min_interval_seconds=82800, created_at=created_at, created_by="a@x",
        updated_at=created_at, updated_by="a@x",
    )  # fmt: skip


def firing(n: int) -> TriggerFiring:
    return TriggerFiring(at=n, event_id=f"event-{n}", source="aws.codedeploy", detail_type="x", outcome="started", run_id=new_id())


def test_triggers_round_trip_per_test_and_tenant(any_stores):
    first, second, elsewhere = make_trigger(created_at=1), make_trigger(created_at=2), make_trigger(test_id="u" * 32)
    for trigger in (second, first, elsewhere, make_trigger(account="other")):
        any_stores.triggers.insert(trigger)
    assert any_stores.triggers.list("acct", TEST) == [first, second]  # oldest first
    assert any_stores.triggers.get("acct", TEST, first.id) == first
    assert any_stores.triggers.get("other", TEST, first.id) is None
    assert any_stores.triggers.get("acct", "u" * 32, first.id) is None  # another test's path
    assert (any_stores.triggers.count("acct", TEST), any_stores.triggers.count("acct")) == (2, 3)
    assert len(any_stores.triggers.list_all()) == 4
    assert any_stores.triggers.delete("other", TEST, first.id) is False
    assert any_stores.triggers.delete("acct", TEST, first.id) is True
    assert any_stores.triggers.delete("acct", TEST, first.id) is False
    assert any_stores.triggers.list("acct", TEST) == [second]


def test_firings_are_kept_newest_first_and_bounded(any_stores):
    trigger = make_trigger()
    any_stores.triggers.insert(trigger)
    for n in range(25):
        any_stores.triggers.record_firing("acct", trigger.id, firing(n), keep=20)
    any_stores.triggers.record_firing("other", trigger.id, firing(99), keep=20)  # not this tenant's trigger
    kept = any_stores.triggers.get("acct", TEST, trigger.id).last_firings
    assert [f.at for f in kept] == list(range(24, 4, -1))


def test_concurrent_firings_are_all_recorded(any_stores):
    trigger = make_trigger()
    any_stores.triggers.insert(trigger)
    threads = [threading.Thread(target=any_stores.triggers.record_firing, args=("acct", trigger.id, firing(n), 50)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(f.at for f in any_stores.triggers.get("acct", TEST, trigger.id).last_firings) == list(range(16))


def test_schedules_update_and_record_occurrences(any_stores):
    schedule = make_schedule()
    any_stores.schedules.insert(schedule)
    assert any_stores.schedules.count("acct", TEST) == 1 and any_stores.schedules.count("other", TEST) == 0
    changed = any_stores.schedules.update(
        "acct", TEST, schedule.id,
        {"cron": None, "rate": "1 hour", "expression": "rate(1 hour)", "enabled": False, "start_at": 5000,
         "run_settings": StartRunRequest.model_validate({"durationSeconds": 60, "targetUsers": 2})},
    )  # fmt: skip
    assert (changed.cron, changed.rate, changed.enabled, changed.start_at) == (None, "1 hour", False, 5000)
    assert changed.run_settings.target_users == 2
    assert any_stores.schedules.get("acct", TEST, schedule.id) == changed
    assert any_stores.schedules.update("other", TEST, schedule.id, {"enabled": True}) is None
    for n in range(55):
        occurrence = ScheduleOccurrence(at=n * 60_000, fired_at=n * 60_000 + 5, outcome="skipped" if n % 2 else "started", reason="r")
        any_stores.schedules.record_occurrence("acct", schedule.id, occurrence, keep=50)
    kept = any_stores.schedules.get("acct", TEST, schedule.id).occurrences
    assert len(kept) == 50 and kept[0].at == 54 * 60_000 and kept[-1].at == 5 * 60_000
    assert any_stores.schedules.list_all() == [any_stores.schedules.get("acct", TEST, schedule.id)]
    assert any_stores.schedules.delete("acct", TEST, schedule.id) is True
    assert any_stores.schedules.list("acct", TEST) == []


def test_runs_know_the_active_one_and_every_revision_used(any_stores):
    old = make_run(created_at=1, status="Finished").model_copy(update={"script_revision_id": "rev-a"})
    newer = make_run(created_at=2, status="Running").model_copy(update={"script_revision_id": "rev-b"})
    newest = make_run(created_at=3, status="Pending").model_copy(update={"script_revision_id": "rev-b"})
    for run in (old, newer, newest, make_run(account="other").model_copy(update={"script_revision_id": "rev-z"})):
        any_stores.runs.insert(run)
    assert any_stores.runs.find_active("acct", TEST).id == newest.id
    assert any_stores.runs.find_active("acct", "u" * 32) is None
    assert any_stores.runs.referenced_revision_ids("acct", TEST) == {"rev-a", "rev-b"}
    assert any_stores.runs.referenced_revision_ids("other", "u" * 32) == set()


def _revisions(stores, count: int) -> list[StoredRevision]:
    out = []
    for n in range(count):
        draft = StoredRevision(
            id=new_id(), load_test_id=TEST, account_id="acct", revision_number=0, description=f"v{n + 1}", sha256=f"{n:064d}",
            size_bytes=10, created_at=1000 + n, created_by="a@x", content=f"# v{n + 1}\n",
        )  # fmt: skip
        out.append(stores.revisions.append(draft, skip_if_same_as_latest=True)[0])
    return out


def test_pruning_leaves_tombstones_and_never_reuses_numbers(any_stores):
    revisions = _revisions(any_stores, 6)
    candidates = any_stores.revisions.prune_candidates("acct", TEST, below_number=4)
    assert [r.revision_number for r in candidates] == [1, 2, 3] and all(r.content is None for r in candidates)
    assert any_stores.revisions.prune_candidates("other", TEST, below_number=4) == []
    ids = [revisions[0].id, revisions[2].id]
    assert sorted(any_stores.revisions.set_pruned("acct", TEST, ids, 7777)) == sorted(ids)
    assert any_stores.revisions.set_pruned("acct", TEST, ids, 8888) == []  # already marked
    assert any_stores.revisions.set_pruned("other", TEST, [revisions[1].id], 1) == []
    # Marked but not yet emptied: it can still be taken back (a run turned out to need it).
    assert any_stores.revisions.set_pruned("acct", TEST, [revisions[2].id], None) == [revisions[2].id]
    assert any_stores.revisions.drop_content("acct", TEST, [revisions[0].id, revisions[1].id]) == 1  # only the marked one
    tombstone = any_stores.revisions.get_by_number("acct", TEST, 1)
    assert (tombstone.pruned_at, tombstone.content, tombstone.sha256, tombstone.created_by) == (7777, None, revisions[0].sha256, "a@x")
    assert any_stores.revisions.get("acct", TEST, revisions[0].id).content is None
    assert any_stores.revisions.set_pruned("acct", TEST, [revisions[0].id], None) == []  # its content is gone: stays pruned
    assert any_stores.revisions.get_by_number("acct", TEST, 2).content == "# v2\n"
    listed = any_stores.revisions.list("acct", TEST, limit=10, before_number=None)
    assert [(r.revision_number, r.pruned_at) for r in listed] == [(6, None), (5, None), (4, None), (3, None), (2, None), (1, 7777)]
    assert [r.revision_number for r in any_stores.revisions.prune_candidates("acct", TEST, below_number=4)] == [2, 3]
    draft = revisions[0].model_copy(update={"id": new_id(), "sha256": "f" * 64, "content": "# v7\n", "revision_number": 0})
    assert any_stores.revisions.append(draft, skip_if_same_as_latest=True)[0].revision_number == 7
