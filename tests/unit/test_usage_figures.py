"""Usage and cost arithmetic (analysis/usage.py) and its settings: what a price table, Fargate's billing
and a run's size make of the figures, with nothing around them."""

from __future__ import annotations

import os

import pytest

from load_manager.analysis import usage
from load_manager.backends.base import TaskUsage
from load_manager.models.generators import GeneratorReading
from load_manager.settings import Settings, SettingsError, UsageSettings

PRICES = UsageSettings()


def test_a_region_in_the_table_is_priced_from_it_and_any_other_at_the_default():
    assert usage.price_of(PRICES, "us-east-1") == (0.04048, 0.004445, "table")
    assert usage.price_of(PRICES, "us-west-2") == (0.04048, 0.004445, "table")
    assert usage.price_of(PRICES, "ap-south-2") == (0.04048, 0.004445, "default")
    own = Settings.from_env({"USAGE_PRICES": '{"eu-west-1": {"vcpuHour": 0.05, "gbHour": 0.006}}'}).usage
    assert usage.price_of(own, "eu-west-1") == (0.05, 0.006, "table") and usage.price_of(own, "us-east-1")[2] == "table"


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"eu-west-1": {"vcpuHour": -1, "gbHour": 0.1}}', '{"eu-west-1": 3}'])
def test_a_malformed_price_table_fails_the_settings_loudly(raw):
    with pytest.raises(SettingsError, match="USAGE_PRICES|usage.prices"):
        Settings.from_env({"USAGE_PRICES": raw})


def test_task_sizes_and_the_budget_come_from_the_templates_variables():
    settings = Settings.from_env({"LOCUST_MASTER_CPU": "512", "LOCUST_MASTER_MEMORY": "1024", "LOCUST_WORKER_CPU": "4096",
                                  "LOCUST_WORKER_MEMORY": "8192", "QUOTA_VCPU_HOURS_PER_MONTH": "250"})  # fmt: skip
    assert (settings.usage.master_vcpu, settings.usage.master_memory_gb, settings.usage.worker_vcpu, settings.usage.worker_memory_gb) == (0.5, 1.0, 4.0, 8.0)
    assert settings.quotas.vcpu_hours_per_month == 250 and Settings.from_env({}).quotas.vcpu_hours_per_month == 0  # no budget
    with pytest.raises(SettingsError, match="vcpu_hours_per_month"):
        Settings.from_env({"QUOTA_VCPU_HOURS_PER_MONTH": "-1"})


def test_fargate_bills_each_task_by_the_second_and_at_least_a_minute():
    per_hour = 1.0 * 0.04048 + 2.0 * 0.004445
    assert usage.fargate_cost(PRICES, "us-east-1", [(1.0, 2.0, 3600)]).amount == pytest.approx(per_hour, abs=1e-6)
    assert usage.fargate_cost(PRICES, "us-east-1", [(1.0, 2.0, 5)]).amount == pytest.approx(per_hour * 60 / 3600, abs=1e-6)
    assert usage.fargate_cost(PRICES, "us-east-1", [(1.0, 2.0, 60.2)]).amount == pytest.approx(per_hour * 61 / 3600, abs=1e-6)
    assert usage.fargate_cost(PRICES, "us-east-1", [(1.0, 2.0, 0)]).amount == 0  # never ran: nothing


def test_tasks_without_times_run_from_the_launch_to_the_teardown():
    tasks = [TaskUsage("master", 0.5, 1.0, None, None), TaskUsage("worker", 1.0, 2.0, 110.0, None), TaskUsage("worker", 1.0, 2.0, 110.0, 150.0)]
    figures = usage.from_tasks(tasks, launched_at=100.0, ended_at=200.0, settings=PRICES, region="us-east-1")
    assert [(r.role, r.count, r.vcpu_seconds, r.memory_gb_seconds) for r in figures.roles] == [("master", 1, 50.0, 100.0), ("worker", 2, 130.0, 260.0)]
    assert (figures.vcpu_seconds, figures.memory_gb_seconds, figures.load_generators, figures.duration_seconds) == (180.0, 360.0, 3, 100.0)
    assert figures.basis == "allocated" and figures.estimated_cost.price_source == "table"


def test_local_processes_count_what_they_used_and_a_heartbeat_reading_stands_for_the_usual_interval():
    def reading(id: str, role: str, cpu: float, window: float | None) -> GeneratorReading:  # noqa: A002
        return GeneratorReading(id=id, role=role, cpu_percent=cpu, memory_bytes=1 << 30, window_seconds=window)

    samples = [(1000, [reading("local", "local", 50.0, 2.0)]), (3000, [reading("local", "local", 100.0, None)]), (5000, [reading("local", "local", 25.0, 2.0)])]
    figures = usage.from_readings(samples, PRICES)
    assert figures.vcpu_seconds == pytest.approx(1.0 + 2.0 + 0.5)  # the heartbeat stands for 2 s, the samples' interval
    assert figures.memory_gb_seconds == pytest.approx(6.0) and figures.duration_seconds == pytest.approx(6.0)
    assert [(r.role, r.count) for r in figures.roles] == [("locust", 1)] and figures.estimated_cost.price_source == "local"


def test_an_estimate_is_generators_times_vcpu_times_the_planned_duration():
    sized = UsageSettings(master_cpu=1024, master_memory=2048, worker_cpu=2048, worker_memory=4096)
    roles, cost = usage.estimate("ecs", 3, 1200, sized, "us-east-1")
    assert [(r.role, r.count, r.vcpu) for r in roles] == [("master", 1, 1.0), ("worker", 3, 2.0)]
    assert usage.vcpu_seconds_of(roles, 1200) == 7 * 1200 and usage.memory_gb_seconds_of(roles, 1200) == 14 * 1200
    assert cost.amount == pytest.approx((7 * 0.04048 + 14 * 0.004445) * 1200 / 3600, abs=1e-6)
    # Locally: one process for one worker; else a master and its workers, at most the machine's cores in all.
    single, free = usage.estimate("local", 1, 100, sized, None)
    assert [(r.role, r.count, r.vcpu) for r in single] == [("locust", 1, 1.0)] and free.amount == 0 and free.price_source == "local"
    many, _ = usage.estimate("local", 40, 100, sized, None)
    assert usage.vcpu_seconds_of(many, 1) == pytest.approx(min(41, os.cpu_count() or 1))
