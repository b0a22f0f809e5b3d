"""Parsing Locust 2.47's `GET /stats/requests` into LiveStats / FinalResults, from captured payloads.

The payloads below were captured from real Locust 2.47 runs against examples/target_service.py
(rows trimmed to keep the file short: the Aggregated row is verbatim, so it is not the sum of the
rows shown). What they teach:
- per-row percentiles are cumulative and only p95/p99 exist as keys; p50 is `median_response_time`
  (an int, or a float when Locust clamps it to min/max);
- the payload's root has the *current* (sliding ~10 s) p50/p95 only, null before any data;
- `total_rps` is the run's average, `current_rps` the recent window;
- `worker_count`/`workers` appear only on a master.
"""

from __future__ import annotations

import json

import pytest

from load_manager.backends.base import ClusterHandle, ClusterSpec, EndpointStats
from load_manager.backends.locust_stats import final_results, live_stats

# A master with two `--processes` workers, 5 users, mid-run.
MASTER_RUNNING = json.loads(
    r"""
{
    "current_fail_per_sec": 0.0,
    "current_response_time_percentiles": {
        "response_time_percentile_0.5": 2,
        "response_time_percentile_0.95": 43
    },
    "current_rps": 40.25,
    "errors": [],
    "fail_ratio": 0.0,
    "state": "running",
    "stats": [
        {
            "avg_content_length": 930.0,
            "avg_response_time": 3.2397774142931928,
            "current_fail_per_sec": 0.0,
            "current_rps": 11.75,
            "max_response_time": 43.0,
            "median_response_time": 2,
            "method": "GET",
            "min_response_time": 1.0,
            "name": "/items",
            "num_failures": 0,
            "num_requests": 70,
            "response_time_percentile_0.95": 3,
            "response_time_percentile_0.99": 43,
            "total_fail_per_sec": 0.0,
            "total_rps": 11.85490116463398
        },
        {
            "avg_content_length": 44.0,
            "avg_response_time": 4.441958882352992,
            "current_fail_per_sec": 0.0,
            "current_rps": 2.0,
            "max_response_time": 43.0,
            "median_response_time": 2,
            "method": "POST",
            "min_response_time": 2.0,
            "name": "/items",
            "num_failures": 0,
            "num_requests": 17,
            "response_time_percentile_0.95": 43,
            "response_time_percentile_0.99": 43,
            "total_fail_per_sec": 0.0,
            "total_rps": 2.8790474256968235
        },
        {
            "avg_content_length": 16.0,
            "avg_response_time": 52.53634449998117,
            "current_fail_per_sec": 0.0,
            "current_rps": 1.75,
            "max_response_time": 54.0,
            "median_response_time": 52.11390199997368,
            "method": "GET",
            "min_response_time": 52.0,
            "name": "/slow",
            "num_failures": 0,
            "num_requests": 10,
            "response_time_percentile_0.95": 54,
            "response_time_percentile_0.99": 54,
            "total_fail_per_sec": 0.0,
            "total_rps": 1.6935573092334257
        },
        {
            "avg_content_length": 300.4356846473029,
            "avg_response_time": 5.1570861120339435,
            "current_fail_per_sec": 0.0,
            "current_rps": 40.25,
            "max_response_time": 54.0,
            "median_response_time": 2,
            "method": "",
            "min_response_time": 1.0,
            "name": "Aggregated",
            "num_failures": 0,
            "num_requests": 241,
            "response_time_percentile_0.95": 43,
            "response_time_percentile_0.99": 53,
            "total_fail_per_sec": 0.0,
            "total_rps": 40.81473115252556
        }
    ],
    "total_fail_per_sec": 0.0,
    "total_rps": 40.81473115252556,
    "user_count": 5,
    "worker_count": 2,
    "workers": [
        {
            "cpu_usage": 0.0,
            "id": "vm_7d09be1c3259446b86f4958dcf7e7f9f",
            "memory_usage": 0,
            "state": "running",
            "user_count": 3
        },
        {
            "cpu_usage": 0.0,
            "id": "vm_a2f151cda1d14f008df2e5ce9bdcdb06",
            "memory_usage": 0,
            "state": "running",
            "user_count": 2
        }
    ]
}
"""
)

# A single process against a port with nothing listening: every request fails.
TARGET_DOWN = json.loads(
    r"""
{
    "current_fail_per_sec": 35.0,
    "current_response_time_percentiles": {
        "response_time_percentile_0.5": 1,
        "response_time_percentile_0.95": 2
    },
    "current_rps": 35.0,
    "errors": [
        {
            "error": "ConnectionRefusedError(111, 'Connection refused')",
            "first_seen": 1795503800.7676256,
            "last_seen": 1795503800.77096,
            "method": "GET",
            "name": "/",
            "occurrences": 5
        },
        {
            "error": "ConnectionRefusedError(111, 'Connection refused')",
            "first_seen": 1795503800.7722726,
            "last_seen": 1795503808.7968612,
            "method": "GET",
            "name": "/items/[id]",
            "occurrences": 178
        }
    ],
    "fail_ratio": 1.0,
    "state": "running",
    "stats": [
        {
            "avg_content_length": 0.0,
            "avg_response_time": 6.110842200018851,
            "current_fail_per_sec": 0.8333333333333334,
            "current_rps": 0.8333333333333334,
            "max_response_time": 10.0,
            "median_response_time": 6,
            "method": "GET",
            "min_response_time": 3.0,
            "name": "/",
            "num_failures": 5,
            "num_requests": 5,
            "response_time_percentile_0.95": 10,
            "response_time_percentile_0.99": 10,
            "total_fail_per_sec": 0.6221443544996303,
            "total_rps": 0.6221443544996303
        },
        {
            "avg_content_length": 0.0,
            "avg_response_time": 1.422875640452623,
            "current_fail_per_sec": 20.833333333333332,
            "current_rps": 20.833333333333332,
            "max_response_time": 5.0,
            "median_response_time": 1,
            "method": "GET",
            "min_response_time": 1.0,
            "name": "/items/[id]",
            "num_failures": 178,
            "num_requests": 178,
            "response_time_percentile_0.95": 2,
            "response_time_percentile_0.99": 4,
            "total_fail_per_sec": 22.14833902018684,
            "total_rps": 22.14833902018684
        },
        {
            "avg_content_length": 0.0,
            "avg_response_time": 1.452746355558009,
            "current_fail_per_sec": 35.0,
            "current_rps": 35.0,
            "max_response_time": 10.0,
            "median_response_time": 1,
            "method": "",
            "min_response_time": 1.0,
            "name": "Aggregated",
            "num_failures": 315,
            "num_requests": 315,
            "response_time_percentile_0.95": 2,
            "response_time_percentile_0.99": 5,
            "total_fail_per_sec": 39.19509433347671,
            "total_rps": 39.19509433347671
        }
    ],
    "total_fail_per_sec": 39.19509433347671,
    "total_rps": 39.19509433347671,
    "user_count": 5
}
"""
)

# Web API up, no swarm yet.
READY = json.loads(
    r"""
{"current_fail_per_sec": 0, "current_response_time_percentiles": {"response_time_percentile_0.5": null, "response_time_percentile_0.95": null}, "current_rps": 0, "errors": [], "fail_ratio": 0.0, "state": "ready", "stats": [{"avg_content_length": 0, "avg_response_time": 0.0, "current_fail_per_sec": 0, "current_rps": 0, "max_response_time": 0.0, "median_response_time": 0, "method": "", "min_response_time": 0, "name": "Aggregated", "num_failures": 0, "num_requests": 0, "response_time_percentile_0.95": 0, "response_time_percentile_0.99": 0, "total_fail_per_sec": 0.0, "total_rps": 0.0}], "total_fail_per_sec": 0.0, "total_rps": 0.0, "user_count": 0}
"""
)

# What Locust answers when its environment has no runner (note the odd key names).
NO_RUNNER = {
    "stats": [],
    "errors": [],
    "total_rps": 0.0,
    "total_fail_per_sec": 0.0,
    "fail_ratio": 0.0,
    "current_response_time_percentile_1": None,
    "current_response_time_percentile_2": None,
    "state": "missing",
    "user_count": 0,
}


def test_master_payload_totals_and_percentiles_come_from_the_aggregated_row():
    stats = live_stats(MASTER_RUNNING)

    assert stats.state == "running" and stats.load_active
    assert stats.user_count == 5
    assert stats.worker_count == 2
    assert stats.total_requests == 241
    assert stats.total_failures == 0
    assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == (2, 43, 53)
    assert (stats.current_p50_ms, stats.current_p95_ms) == (2, 43)
    assert stats.current_rps == pytest.approx(40.25)
    assert stats.average_rps == pytest.approx(40.81473115252556)
    assert stats.fail_ratio == 0.0 and stats.failures_per_second == 0.0
    assert stats.errors == []


def test_endpoints_exclude_aggregated_and_keep_method_apart():
    stats = live_stats(MASTER_RUNNING)

    assert [(e.method, e.name) for e in stats.endpoints] == [("GET", "/items"), ("POST", "/items"), ("GET", "/slow")]
    slow = stats.endpoints[-1]
    assert slow == EndpointStats(
        method="GET",
        name="/slow",
        num_requests=10,
        num_failures=0,
        avg_ms=pytest.approx(52.53634449998117),
        min_ms=52.0,
        max_ms=54.0,
        p50_ms=pytest.approx(52.11390199997368),  # Locust's median, clamped to min: a float here
        p95_ms=54,
        p99_ms=54,
        rps=pytest.approx(1.6935573092334257),
        current_rps=1.75,
    )


def test_failures_and_errors_are_parsed():
    stats = live_stats(TARGET_DOWN)

    assert stats.worker_count is None  # a single process has no workers
    assert stats.fail_ratio == 1.0
    assert stats.total_failures == stats.total_requests == 315
    assert stats.failures_per_second == 35.0
    assert [(e.method, e.name, e.occurrences) for e in stats.errors] == [("GET", "/", 5), ("GET", "/items/[id]", 178)]
    assert stats.errors[0].error == "ConnectionRefusedError(111, 'Connection refused')"


def test_ready_payload_has_no_current_percentiles_yet():
    stats = live_stats(READY)

    assert stats.state == "ready" and not stats.load_active
    assert stats.endpoints == []
    assert stats.total_requests == 0
    assert stats.current_p50_ms is None and stats.current_p95_ms is None
    assert stats.p99_ms == 0


def test_payload_without_runner_parses_to_zeros():
    stats = live_stats(NO_RUNNER)

    assert stats.state == "missing"
    assert stats.total_requests == 0 and stats.endpoints == []
    assert stats.current_p50_ms is None


def test_a_user_request_named_aggregated_is_an_endpoint():
    payload = {
        "state": "running",
        "stats": [
            {"method": "GET", "name": "Aggregated", "num_requests": 3},
            {"method": "", "name": "Aggregated", "num_requests": 7},
        ],
    }
    stats = live_stats(payload)
    assert [(e.method, e.num_requests) for e in stats.endpoints] == [("GET", 3)]
    assert stats.total_requests == 7


def test_live_stats_are_json_ready():
    json.dumps(live_stats(TARGET_DOWN).to_dict())


def test_final_results_from_payload():
    results = final_results(TARGET_DOWN, html_report="<html></html>", exit_code=None, log_tail="tail")

    assert results.aggregated.name == "Aggregated"
    assert results.aggregated.num_requests == results.aggregated.num_failures == 315
    assert results.fail_ratio == 1.0
    assert len(results.endpoints) == 2 and len(results.errors) == 2
    assert json.loads(json.dumps(results.to_dict()))["aggregated"]["p99_ms"] == 5


def test_handle_round_trips_through_json_and_ignores_unknown_keys():
    handle = ClusterHandle(
        backend="local",
        run_id="r1",
        web_url="http://127.0.0.1:1234",
        workers=2,
        started_at=1700000000.5,
        details={"pid": 42, "pgid": 41, "work_dir": "/tmp/x"},
    )
    stored = json.loads(json.dumps(handle.to_dict()))
    stored["addedLater"] = True

    assert ClusterHandle.from_dict(stored) == handle


@pytest.mark.parametrize(
    "change",
    [{"users": 0}, {"spawn_rate": 0}, {"workers": 0}, {"duration_seconds": 0},
     {"script_name": "../evil.py"}, {"script_name": "/abs/locustfile.py"}, {"script_name": "a/../../locustfile.py"}, {"script_name": "locustfile.txt"}],
)  # fmt: skip
def test_cluster_spec_rejects_nonsense(change):
    values = dict(run_id="r", script="x", target_url="http://127.0.0.1:1", users=1, spawn_rate=1, duration_seconds=1)
    with pytest.raises(ValueError):
        ClusterSpec(**{**values, **change})
