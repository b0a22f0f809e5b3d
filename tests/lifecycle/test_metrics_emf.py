"""Powertools Metrics as CloudWatch sees them: the EMF lines the handlers print, captured."""

from __future__ import annotations

import json

import pytest
from support import asl
from support.fake_backend import FakeBackend
from support.lifecycle import ASL, create_run

from load_manager.lifecycle.dispatch import run_step
from load_manager.observability import metrics
from load_manager_local.api import InProcessApi

pytestmark = pytest.mark.usefixtures("fast_settings")


@pytest.fixture
def emf(monkeypatch, capsys):
    """Metrics on (the tests turn them off elsewhere); returns the values of every EMF line printed."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    capsys.readouterr()

    def emitted() -> dict[str, list[float]]:
        values: dict[str, list[float]] = {}
        for line in capsys.readouterr().out.splitlines():
            if not line.startswith('{"_aws"'):
                continue
            document = json.loads(line)
            directive = document["_aws"]["CloudWatchMetrics"][0]
            assert directive["Namespace"] == "LoadManager" and directive["Dimensions"] == [["service"]]
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
        return values

    yield emitted
    metrics.clear_metrics()


def test_a_run_emits_started_finished_duration_and_poll_latency(stores, emf):
    run = create_run(stores, duration_seconds=1)  # the use case counts the start
    backend = FakeBackend()
    step = metrics.log_metrics(lambda event, _context: run_step(event, stores, backend.factory))
    execution = asl.run(ASL, lambda event: step(event, None), {"runId": run.id, "accountId": run.account_id})
    assert execution.status == "SUCCEEDED"
    values = emf()
    assert values["RunsStarted"] == [1.0] and values["RunsFinished"] == [1.0]
    assert len(values["RunDuration"]) == 1 and 0.9 <= values["RunDuration"][0] < 5
    assert len(values["PollLatency"]) == execution.attempts["PollRun"]
    assert "RunsFailed" not in values


def test_a_failed_run_is_counted_as_failed(stores, emf):
    run = create_run(stores, duration_seconds=30)
    backend = FakeBackend(on_sample=lambda handle: backend.crash(handle))
    step = metrics.log_metrics(lambda event, _context: run_step(event, stores, backend.factory))
    asl.run(ASL, lambda event: step(event, None), {"runId": run.id, "accountId": run.account_id})
    values = emf()
    assert values["RunsFailed"] == [1.0] and "RunsFinished" not in values


def test_api_responses_are_counted_by_status_class(api, emf):
    assert api.request("GET", "/v1/health").status == 200
    assert api.request("GET", "/v1/load-tests/" + "0" * 32).status == 404
    assert api.request("POST", "/v1/load-tests", body={"name": "x"}).status == 422
    values = emf()
    assert values["Api2xx"] == [1.0] and values["Api4xx"] == [1.0, 1.0]


def test_in_process_api_keeps_quiet_when_metrics_are_disabled(api, capsys):
    InProcessApi.request(api, "GET", "/v1/health")
    assert '"_aws"' not in capsys.readouterr().out
