"""The plugin inside Locust (backends/generator_usage.py) and what the control plane reads of it
(generator_stats, LocustWebApi.generators): windows since the previous answer, per process; a
worker's counters through the master; restarts at test_start; Locust's heartbeat for a worker that
sends none; anything malformed gives no reading rather than a failed poll."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from flask import Flask

from load_manager.backends import generator_usage
from load_manager.backends.generator_stats import GeneratorUsage, generator_usages
from load_manager.backends.generator_usage import Generators, usage


def counters(at: float, cpu: float, wait: float | None, rss: int = 100) -> dict:
    return {"at": at, "cpu": cpu, "wait": wait, "rss": rss}


def test_a_window_is_cpu_and_wait_over_its_wall_time():
    assert usage(counters(10.0, 1.0, 2.0), counters(12.0, 2.8, 2.2, rss=7)) == {
        "cpuPercent": 90.0, "cpuWaitPercent": 10.0, "memoryBytes": 7, "windowSeconds": 2.0,
    }  # fmt: skip
    assert usage(counters(10.0, 1.0, None), counters(11.0, 1.5, 3.0))["cpuWaitPercent"] is None  # the kernel did not say
    assert usage(counters(10.0, 1.0, 0.0), counters(10.0, 1.0, 0.0)) is None  # no time passed


def test_this_process_measures_itself():
    before = generator_usage.counters()
    end = time.process_time() + 0.05
    while time.process_time() < end:  # burn a little CPU
        pass
    after = generator_usage.counters()
    window = usage(before, after)
    assert window is not None and window["cpuPercent"] > 0 and window["memoryBytes"] > 0
    assert (window["cpuWaitPercent"] is None) == (before["wait"] is None)  # Linux says; elsewhere None


class FakeMaster:
    """What the plugin reads of Locust's MasterRunner: its workers (with Locust's own heartbeat figures) and their indexes."""

    def __init__(self) -> None:
        self.clients = {"a": SimpleNamespace(cpu_usage=12.5, memory_usage=300), "b": SimpleNamespace(cpu_usage=0, memory_usage=None)}
        self.worker_indexes = {"a": 0, "b": 1}
        self.registered: dict = {}

    def register_message(self, kind, listener, concurrent=False):
        self.registered[kind] = listener


def message(node: str, **data) -> SimpleNamespace:
    return SimpleNamespace(node_id=node, data=data)


def test_the_master_serves_each_workers_window_since_its_previous_answer(monkeypatch):
    own = iter([counters(0.0, 0.0, 0.0), counters(2.0, 0.2, 0.1), counters(3.0, 0.3, 0.1)])
    monkeypatch.setattr(generator_usage, "counters", lambda: next(own))
    generators = Generators("master", FakeMaster())
    generators.received(msg=message("a", at=100.0, cpu=5.0, wait=1.0, rss=40))
    generators.received(msg=message("a", at=101.0, cpu=5.95, wait=1.02, rss=41))

    first = generators.answer()["generators"]
    assert first[0] == {"id": "master", "role": "master", "index": None, "cpuPercent": 10.0, "cpuWaitPercent": 5.0, "memoryBytes": 100,
                        "windowSeconds": 2.0}  # fmt: skip
    assert first[1] == {"id": "a", "role": "worker", "index": 0, "cpuPercent": 95.0, "cpuWaitPercent": 2.0, "memoryBytes": 41, "windowSeconds": 1.0}
    # "b" sends no counters (a worker started without the plugin): Locust's own heartbeat figures.
    assert first[2] == {"id": "b", "role": "worker", "index": 1, "cpuPercent": 0.0, "cpuWaitPercent": None, "memoryBytes": None, "windowSeconds": None}

    second = generators.answer()["generators"]  # nothing new from "a" since: no reading of it
    assert [r["id"] for r in second] == ["master", "b"] and second[0]["windowSeconds"] == 1.0


def test_a_swarm_start_restarts_every_window(monkeypatch):
    own = iter([counters(0.0, 0.0, 0.0), counters(30.0, 0.3, 0.0), counters(31.0, 1.2, 0.0)])
    monkeypatch.setattr(generator_usage, "counters", lambda: next(own))
    generators = Generators("local")
    generators.restart(environment=None)  # test_start after 30 s of waiting
    (reading,) = generators.answer()["generators"]
    assert (reading["cpuPercent"], reading["windowSeconds"]) == (90.0, 1.0)


def test_on_init_serves_the_route_on_the_master_and_reports_from_a_worker(monkeypatch):
    app = Flask("locust-web-ui")
    runner = type("MasterRunner", (FakeMaster,), {})()
    events = SimpleNamespace(test_start=SimpleNamespace(add_listener=lambda listener: None))
    generator_usage.on_init(environment=SimpleNamespace(events=events), runner=runner, web_ui=SimpleNamespace(app=app))
    assert generator_usage.MESSAGE in runner.registered
    answer = app.test_client().get(generator_usage.ROUTE)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert [g["id"] for g in answer.get_json()["generators"]] == ["master", "a", "b"]

    spawned = []
    monkeypatch.setattr("gevent.spawn", lambda *args: spawned.append(args))
    worker = type("WorkerRunner", (), {})()
    generator_usage.on_init(environment=None, runner=worker, web_ui=None)
    assert spawned == [(generator_usage._report, worker)]


def test_the_control_plane_keeps_well_formed_readings_only():
    payload = {"generators": [
        {"id": "local", "role": "local", "index": None, "cpuPercent": 42.5, "cpuWaitPercent": 3.0, "memoryBytes": 10, "windowSeconds": 1.0},
        {"id": "w", "role": "worker", "index": 2, "cpuPercent": 7, "cpuWaitPercent": None, "memoryBytes": None, "windowSeconds": None},
        {"id": "first", "role": "master", "cpuPercent": None},  # its first answer: no window yet
        {"role": "worker", "cpuPercent": 5.0},  # no id
        {"id": "x", "cpuPercent": "lots"}, "not a row",
    ]}  # fmt: skip
    assert generator_usages(payload) == [
        GeneratorUsage(id="local", role="local", index=None, cpu_percent=42.5, cpu_wait_percent=3.0, memory_bytes=10, window_seconds=1.0),
        GeneratorUsage(id="w", role="worker", index=2, cpu_percent=7.0, cpu_wait_percent=None, memory_bytes=None, window_seconds=None),
    ]


@pytest.mark.parametrize("payload", [None, [], "text", {"generators": "nope"}, {}])
def test_anything_else_is_no_reading(payload):
    assert generator_usages(payload) == []


def test_the_web_api_reads_the_route_and_a_locust_without_it_gives_no_reading():
    import threading

    from werkzeug.serving import make_server

    from load_manager.backends.locust_web import LocustWebApi

    with_plugin, without = Flask("locust-web-ui"), Flask("another-locust")
    events = SimpleNamespace(test_start=SimpleNamespace(add_listener=lambda listener: None))
    generator_usage.on_init(environment=SimpleNamespace(events=events), runner=type("LocalRunner", (), {})(), web_ui=SimpleNamespace(app=with_plugin))
    servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in (with_plugin, without)]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.01)
        (local,) = LocustWebApi(f"http://127.0.0.1:{servers[0].server_port}").generators()
        assert local.id == "local" and local.role == "local" and local.window_seconds is not None and local.window_seconds > 0
        assert LocustWebApi(f"http://127.0.0.1:{servers[1].server_port}").generators() == []  # 404: a Locust without the plugin
    finally:
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            thread.join(10)
    assert LocustWebApi(f"http://127.0.0.1:{servers[0].server_port}").generators() == []  # nothing listens any more
