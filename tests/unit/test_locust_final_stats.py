"""Final stats after the load stops (backends/locust_web.py `final_stats`): a master's numbers are
read only once every worker's last report is in them, whatever the number of workers.

`FakeMaster` answers like Locust 2.47's master where it matters here, on a shorter clock:
`/stats/requests` memoized (for MEMO_SECONDS), `/stats/requests/csv` live, and a worker's last
requests reaching the master with a report that comes after the stop (Locust's worker sends none
when told to stop; its next report carries them), LATE_SECONDS after it, within one report
interval (QUIET_SECONDS, what the collector is told to wait). The report is there for any read
made after that time, so the outcome does not depend on the machine's speed. A single process (no
`workers` in its answer) has no report to wait for."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from load_manager.backends.locust_web import LocustWebApi

BEFORE_STOP, AT_STOP, LAST_REPORT = 100, 110, 5
MEMO_SECONDS = 0.3  # Locust's is 2 s (STATS_CACHE_SECONDS); the collector allows for that much
LATE_SECONDS = 0.8  # the worker's report after the stop, within its report interval
QUIET_SECONDS = 1.2  # that interval, as the collector is told it


class FakeMaster:
    def __init__(self, *, master: bool, late_report: bool = True) -> None:
        self.master = master
        self.late_report = late_report
        self.state = "running"
        self.stopped_at: float | None = None
        self.csv_reads = 0
        self._memo: tuple[float, dict] | None = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            self.state, self.stopped_at = "stopped", time.monotonic()

    def total(self) -> int:
        if self.stopped_at is None:
            return BEFORE_STOP
        reported = self.late_report and time.monotonic() >= self.stopped_at + LATE_SECONDS
        return AT_STOP + (LAST_REPORT if reported else 0)

    def stats(self) -> dict:
        with self._lock:
            if self._memo is None or time.monotonic() - self._memo[0] > MEMO_SECONDS:
                payload = {"state": self.state, "user_count": 0, "stats": [{"method": None, "name": "Aggregated", "num_requests": self.total()}]}
                if self.master:
                    payload |= {"workers": [{"id": "w1", "state": "ready", "user_count": 0}], "worker_count": 1}
                self._memo = (time.monotonic(), payload)
            return self._memo[1]

    def csv(self) -> str:
        with self._lock:
            self.csv_reads += 1
            return f"Type,Name,Request Count,90%\n,Aggregated,{self.total()},12\n"


@pytest.fixture
def serve() -> Iterator:
    servers: list[ThreadingHTTPServer] = []

    def start(fake: FakeMaster) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body: str, kind: str = "application/json") -> None:
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/stats/requests":
                    self._answer(json.dumps(fake.stats()))
                elif self.path == "/stats/requests/csv":
                    self._answer(fake.csv(), "text/csv")
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                if self.path == "/stop":
                    fake.stop()
                    self._answer(json.dumps({"success": True}))
                else:
                    self.send_error(404)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def total(payload: dict) -> int:
    return payload["stats"][-1]["num_requests"]


def test_a_masters_final_stats_wait_for_the_workers_last_report(serve):
    fake = FakeMaster(master=True)
    payload = LocustWebApi(serve(fake)).final_stats(stop_timeout=10, settle_seconds=QUIET_SECONDS, interval=0.05)
    assert payload["state"] == "stopped"
    assert total(payload) == AT_STOP + LAST_REPORT, "the report that came after the stop is in the final numbers"


def test_a_report_that_never_comes_leaves_the_numbers_as_they_were_after_the_quiet_interval(serve):
    fake = FakeMaster(master=True, late_report=False)  # the worker had reported everything before the stop
    payload = LocustWebApi(serve(fake)).final_stats(stop_timeout=10, settle_seconds=QUIET_SECONDS, interval=0.05)
    assert total(payload) == AT_STOP
    assert fake.csv_reads >= 1, "the live totals were watched"


def test_a_single_process_has_no_worker_to_wait_for(serve):
    fake = FakeMaster(master=False, late_report=False)  # its users ran in it: nothing comes later
    payload = LocustWebApi(serve(fake)).final_stats(stop_timeout=10, settle_seconds=QUIET_SECONDS, interval=0.05)
    assert (payload["state"], total(payload)) == ("stopped", AT_STOP)
    assert fake.csv_reads == 0
