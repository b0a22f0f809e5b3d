"""The contract of each load test's run summary on every store adapter: `lastRun` and `trend`, as
`record_run` writes them and the list reads them (with the tests, in the same read).

Records come from the runs' status changes, retried and racing: whatever their order and however
often each arrives, a test ends with its newest run's latest state and the p95 of its newest
Finished runs."""

from __future__ import annotations

import random
import threading

import pytest

from load_manager.ids import new_id
from load_manager.models.load_tests import TREND_RUNS, LastRun, LoadTest
from load_manager.models.runs import Run, RunSummary, StatusChange

STEPS = ("Pending", "Starting", "Running", "Finished")


def make_test(account: str = "acct") -> LoadTest:
    return LoadTest(
        id=new_id(), account_id=account, name="t", latest_revision_id="r", latest_revision_number=1,
        created_at=1, created_by="a@x", updated_at=1, updated_by="a@x",
    )  # fmt: skip


def make_run(account: str = "acct", test_id: str = "t" * 32, created_at: int = 1000) -> Run:
    return Run(
        id=new_id(), account_id=account, load_test_id=test_id, status="Pending",
        status_history=[StatusChange(status="Pending", at=created_at, actor="a@x")], script_revision_id="r",
        revision_number=1, script_sha256="0" * 64, target_url="http://127.0.0.1:9", target_users=5, spawn_rate=5,
        duration_seconds=30, workers=1, created_at=created_at, created_by="a@x",
    )  # fmt: skip


def change(status: str) -> StatusChange:
    return StatusChange(status=status, at=2000, actor="system")


def at(run: Run, status: str, p95: float | None = None) -> LastRun:
    """The run as a record of `status` sees it (a final record carries its result and p95)."""
    final = status in ("Finished", "Failed", "Cancelled")
    summary = RunSummary(total_requests=10, total_failures=0, fail_ratio=0, rps=1, p95_ms=p95, duration_seconds=5) if final else None
    return LastRun.of(run.model_copy(update={
        "status": status, "result": "Passed" if status == "Finished" else "NotEvaluated", "summary": summary,
        "started_at": run.created_at + 1 if status != "Pending" else None, "ended_at": run.created_at + 9 if final else None,
    }))  # fmt: skip


def listed(stores, account: str = "acct"):
    return {item.id: item for item in stores.load_tests.list(account, project_id=None, limit=100, after=None)}


def stored_test(stores, account: str = "acct"):
    test = make_test(account)
    stores.load_tests.insert(test)
    return test


def test_a_new_test_has_no_run_and_the_list_reads_what_was_recorded(any_stores):
    test = stored_test(any_stores)
    item = listed(any_stores)[test.id]
    assert item.last_run is None and item.trend == []
    assert item.model_dump(exclude={"last_run", "trend"}) == test.model_dump()  # the test as it is, plus its runs
    run = make_run(test_id=test.id, created_at=1000)
    any_stores.load_tests.record_run("acct", test.id, at(run, "Starting"))
    assert listed(any_stores)[test.id].last_run == at(run, "Starting")
    any_stores.load_tests.record_run("acct", test.id, at(run, "Finished", p95=12.5))
    item = listed(any_stores)[test.id]
    assert item.last_run == at(run, "Finished", p95=12.5) and item.last_run.p95_ms == 12.5 and item.last_run.ended_at == 1009
    assert [(p.run_id, p.p95_ms) for p in item.trend] == [(run.id, 12.5)]
    assert any_stores.load_tests.get("acct", test.id) == test  # reading one test is unchanged


def test_a_stale_record_of_the_same_run_or_an_older_run_changes_nothing(any_stores):
    test = stored_test(any_stores)
    older, newer = make_run(test_id=test.id, created_at=1000), make_run(test_id=test.id, created_at=2000)
    any_stores.load_tests.record_run("acct", test.id, at(newer, "Running"))
    any_stores.load_tests.record_run("acct", test.id, at(newer, "Starting"))  # a retried StartRun, late
    any_stores.load_tests.record_run("acct", test.id, at(older, "Finished", p95=5.0))  # an older run ending later
    item = listed(any_stores)[test.id]
    assert item.last_run == at(newer, "Running")
    assert [p.run_id for p in item.trend] == [older.id]  # yet a Finished run is a point of the trend
    any_stores.load_tests.record_run("acct", test.id, at(newer, "Finished", p95=7.0))
    any_stores.load_tests.record_run("acct", test.id, at(newer, "Running"))
    any_stores.load_tests.record_run("acct", test.id, at(newer, "Finished", p95=7.0))  # redelivered: one point
    item = listed(any_stores)[test.id]
    assert item.last_run == at(newer, "Finished", p95=7.0)
    assert [(p.run_id, p.p95_ms) for p in item.trend] == [(older.id, 5.0), (newer.id, 7.0)]


def test_runs_created_in_the_same_millisecond_are_ordered_by_id(any_stores):
    test = stored_test(any_stores)
    a, b = sorted((make_run(test_id=test.id, created_at=1000) for _ in range(2)), key=lambda r: r.id)
    any_stores.load_tests.record_run("acct", test.id, at(b, "Starting"))
    any_stores.load_tests.record_run("acct", test.id, at(a, "Finished", p95=1.0))
    assert listed(any_stores)[test.id].last_run.run_id == b.id
    assert [p.run_id for p in listed(any_stores)[test.id].trend] == [a.id]


def test_the_trend_keeps_the_newest_finished_runs_oldest_first_whatever_the_order(any_stores):
    test = stored_test(any_stores)
    runs = [make_run(test_id=test.id, created_at=1000 + i) for i in range(TREND_RUNS + 5)]
    order = list(range(len(runs)))
    random.Random(7).shuffle(order)
    for i in order:
        any_stores.load_tests.record_run("acct", test.id, at(runs[i], "Finished", p95=float(i)))
    any_stores.load_tests.record_run("acct", test.id, at(make_run(test_id=test.id, created_at=5000), "Failed"))  # not a trend point
    item = listed(any_stores)[test.id]
    assert [p.p95_ms for p in item.trend] == [float(i) for i in range(5, TREND_RUNS + 5)]
    assert item.last_run.status == "Failed" and item.last_run.created_at == 5000


def test_records_are_tenant_scoped(any_stores):
    test = stored_test(any_stores, "acct-a")
    run = make_run("acct-a", test.id)
    any_stores.load_tests.record_run("acct-b", test.id, at(run, "Running"))  # another tenant's id space: nothing
    assert listed(any_stores, "acct-a")[test.id].last_run is None
    any_stores.load_tests.record_run("acct-a", "0" * 32, at(run, "Running"))  # no such test: nothing, no error
    assert listed(any_stores, "acct-b") == {}


def test_concurrent_records_in_any_order_end_with_the_newest_run_and_its_final_state(any_stores):
    test = stored_test(any_stores)
    runs = [make_run(test_id=test.id, created_at=1000 + i // 2) for i in range(6)]  # ties on createdAt too
    records = [(run, status, float(i)) for i, run in enumerate(runs) for status in STEPS] * 2  # and every record twice
    random.Random(11).shuffle(records)
    chunks = [records[i::8] for i in range(8)]
    errors: list[BaseException] = []

    def write(chunk):
        try:
            for run, status, p95 in chunk:
                any_stores.load_tests.record_run("acct", test.id, at(run, status, p95=p95))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    newest = max(runs, key=lambda r: (r.created_at, r.id))
    item = listed(any_stores)[test.id]
    assert item.last_run == at(newest, "Finished", p95=float(runs.index(newest)))
    assert [p.run_id for p in item.trend] == [r.id for r in sorted(runs, key=lambda r: (r.created_at, r.id))]


@pytest.fixture
def forget_summaries(any_stores):
    """Make a test look as it was stored before lastRun existed (each adapter keeps it its own way)."""

    def forget(test_id: str) -> None:
        store = any_stores.load_tests
        if hasattr(store, "db"):  # SQLite: the row of load_test_last_runs
            with store.db.write() as conn:
                conn.execute("DELETE FROM load_test_last_runs WHERE load_test_id = ?", (test_id,))
        else:  # MongoDB: the fields of the document
            store.collection.update_one({"id": test_id}, {"$unset": {"lastRun": "", "trend": "", "lastRunVersion": ""}})

    return forget


def test_a_test_stored_before_last_run_existed_gets_it_from_its_runs_on_first_listing(any_stores, forget_summaries):
    test, never_run = stored_test(any_stores), stored_test(any_stores)
    runs = [make_run(test_id=test.id, created_at=1000 + i) for i in range(TREND_RUNS + 3)]
    for i, run in enumerate(runs):
        any_stores.runs.insert(run)
        any_stores.runs.transition("acct", run.id, {"Pending"}, change("Running"), {"started_at": run.created_at + 1})
        summary = RunSummary(total_requests=1, total_failures=0, fail_ratio=0, rps=1, p95_ms=float(i), duration_seconds=1)
        status = "Failed" if i == 1 else "Finished"
        any_stores.runs.transition("acct", run.id, {"Running"}, change(status), {"summary": summary, "ended_at": run.created_at + 9})
    newest = make_run(test_id=test.id, created_at=9000)
    any_stores.runs.insert(newest)  # started, nothing recorded yet
    forget_summaries(test.id)
    forget_summaries(never_run.id)
    # A record arriving before the first listing does not stop it from filling the rest.
    any_stores.load_tests.record_run("acct", test.id, at(runs[-1], "Finished", p95=float(len(runs) - 1)))

    items = listed(any_stores)
    assert items[test.id].last_run == LastRun.of(any_stores.runs.get("acct", newest.id))
    assert [p.p95_ms for p in items[test.id].trend] == [float(i) for i in range(len(runs)) if i != 1][-TREND_RUNS:]
    assert items[never_run.id].last_run is None and items[never_run.id].trend == []
    assert listed(any_stores) == items  # filled once: the next listing reads the same
