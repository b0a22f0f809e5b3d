"""The usage store's contract, on every adapter: sums over a tenant's runs (per test, project, env, or
in all; a window; a test scope; the usage the run records hold) and the vCPU budget's holds, whose
cap holds when takers race."""

from __future__ import annotations

from collections import Counter

import pytest
from support.concurrency import race

from load_manager.ids import new_id
from load_manager.models.runs import Run, StatusChange
from load_manager.models.usage import RoleUsage, RunUsage, UsageCost
from load_manager.store.ports import BudgetHold

TEST_A, TEST_B, TEST_C = "a" * 32, "b" * 32, "c" * 32


def usage(vcpu: float, memory: float, cost: float) -> RunUsage:
    return RunUsage(
        vcpu_seconds=vcpu, memory_gb_seconds=memory, load_generators=2, duration_seconds=10, basis="allocated",
        roles=[RoleUsage(role="master", count=1, vcpu_seconds=vcpu / 2, memory_gb_seconds=memory / 2)],
        estimated_cost=UsageCost(amount=cost, currency="USD", region="us-east-1", price_source="table"),
    )  # fmt: skip


def stored_run(stores, test_id: str, created_at: int, used: RunUsage | None, *, account: str = "acct", project: str | None = None,
               env: str | None = None) -> Run:  # fmt: skip
    status = "Finished" if used else "Running"
    run = Run(
        id=new_id(), account_id=account, load_test_id=test_id, status=status, status_history=[StatusChange(status=status, at=created_at, actor="a")],
        script_revision_id="r", revision_number=1, script_sha256="0" * 64, target_url="http://127.0.0.1:9", target_users=1, spawn_rate=1,
        duration_seconds=10, workers=1, created_at=created_at, created_by="a", project_id=project, env_id=env, usage=used,
    )  # fmt: skip
    assert stores.runs.insert(run)
    return run


@pytest.fixture
def runs(any_stores):
    """Five runs of tenant acct in [1000, 1400], one before the window, one of another tenant."""
    made = [
        stored_run(any_stores, TEST_A, 1000, usage(100, 200, 0.5), project="shop", env="prod"),
        stored_run(any_stores, TEST_A, 1100, usage(50, 100, 0.25), project="shop", env="staging"),
        stored_run(any_stores, TEST_B, 1200, usage(300, 600, 1.5), project="shop", env="prod"),
        stored_run(any_stores, TEST_C, 1300, usage(10, 20, 0.05)),
        stored_run(any_stores, TEST_C, 1400, None),  # still running: counted, adds nothing
        stored_run(any_stores, TEST_A, 999, usage(1000, 1000, 5)),  # before the window
        stored_run(any_stores, TEST_A, 1000, usage(7000, 7000, 70), account="other"),  # another tenant's
    ]
    return made


def by_key(sums) -> dict:
    return {s.key: (s.runs, round(s.vcpu_seconds, 6), round(s.memory_gb_seconds, 6), round(s.cost, 6)) for s in sums}


def test_sums_per_test_project_env_and_in_all_over_a_window_of_one_tenant(any_stores, runs):
    sums = any_stores.usage.sums("acct", 1000, 1401, "test", 100)
    assert [s.key for s in sums] == [TEST_B, TEST_A, TEST_C]  # largest vCPU-seconds first
    assert by_key(sums) == {TEST_A: (2, 150, 300, 0.75), TEST_B: (1, 300, 600, 1.5), TEST_C: (2, 10, 20, 0.05)}
    assert by_key(any_stores.usage.sums("acct", 1000, 1401, "project", 100)) == {"shop": (3, 450, 900, 2.25), None: (2, 10, 20, 0.05)}
    assert by_key(any_stores.usage.sums("acct", 1000, 1401, "env", 100)) == {
        "prod": (2, 400, 800, 2.0), "staging": (1, 50, 100, 0.25), None: (2, 10, 20, 0.05),
    }  # fmt: skip
    assert by_key(any_stores.usage.sums("acct", 1000, 1401, None, 1)) == {None: (5, 460, 920, 2.3)}


def test_the_window_is_from_inclusive_to_exclusive_and_limits_and_scopes_hold(any_stores, runs):
    assert by_key(any_stores.usage.sums("acct", 1100, 1300, None, 1)) == {None: (2, 350, 700, 1.75)}
    assert any_stores.usage.sums("acct", 5000, 6000, "test", 10) == []
    assert [s.key for s in any_stores.usage.sums("acct", 1000, 1401, "test", 2)] == [TEST_B, TEST_A]
    assert by_key(any_stores.usage.sums("acct", 0, 2000, "test", 10, test_ids=[TEST_C])) == {TEST_C: (2, 10, 20, 0.05)}
    assert any_stores.usage.sums("acct", 0, 2000, None, 1, test_ids=[]) == []  # a scope of no test sees no run
    assert by_key(any_stores.usage.sums("nobody", 0, 2000, "test", 10)) == {}


def test_sums_follow_usage_written_to_a_run_later(any_stores, runs):
    running = runs[4]
    finished = any_stores.runs.transition("acct", running.id, {"Running"}, StatusChange(status="Finished", at=2000, actor="system"))
    assert finished is not None
    any_stores.runs.update("acct", running.id, {"usage": usage(40, 80, 0.2)}, when_status_in={"Finished"})
    assert by_key(any_stores.usage.sums("acct", 1000, 1401, "test", 10))[TEST_C] == (2, 50, 100, 0.25)


def test_budget_holds_stay_within_their_cap_retries_are_safe_and_release_gives_room_back(any_stores):
    holds = any_stores.usage
    assert holds.take("acct", BudgetHold("run-1", 600, 1), cap_ms=1000) is True
    assert holds.take("acct", BudgetHold("run-1", 600, 1), cap_ms=1000) is True  # a retry: held already
    assert holds.take("acct", BudgetHold("run-2", 500, 2), cap_ms=1000) is False  # 600 + 500 > 1000
    assert holds.take("acct", BudgetHold("run-2", 400, 2), cap_ms=1000) is True  # exactly the cap
    assert holds.take("other", BudgetHold("run-9", 1000, 3), cap_ms=1000) is True  # per tenant
    assert [(h.member, h.vcpu_ms) for h in holds.holds("acct")] == [("run-1", 600), ("run-2", 400)]
    holds.release("acct", "run-1")
    holds.release("acct", "run-1")  # again: nothing happens
    holds.release("acct", "never-held")
    assert holds.take("acct", BudgetHold("run-3", 600, 4), cap_ms=1000) is True
    assert holds.take("acct", BudgetHold("run-4", 1, 5), cap_ms=0) is False  # a cap below what is held: nothing fits
    assert sorted(h.member for h in holds.holds("acct")) == ["run-2", "run-3"]


def test_racing_takers_never_exceed_the_cap(any_stores):
    results = race(20, lambda n: any_stores.usage.take("acct", BudgetHold(f"run-{n}", 300, n), cap_ms=1000))
    assert Counter(results) == {True: 3, False: 17}
    assert sum(h.vcpu_ms for h in any_stores.usage.holds("acct")) == 900
    # Releases racing each other give each hold back once: the room is exactly what was held.
    held = [h.member for h in any_stores.usage.holds("acct")]
    race(6, lambda n: any_stores.usage.release("acct", held[n % 3]))
    assert any_stores.usage.holds("acct") == []
    assert any_stores.usage.take("acct", BudgetHold("big", 1000, 99), cap_ms=1000) is True
