"""Generator health, measured inside Locust: what each Locust process of a run uses of the machine.

Standard library only at import: like the web guard it travels in the runtime archive and runs in
the Locust image's Python. The guard's `sitecustomize` loads it from its private folder at Locust's
start and calls `install` (web_guard.install_plugins); Locust, gevent, Flask and psutil are only
touched once Locust's `events.init` fires.

Each process measures itself from the kernel's accounting, over a window:
- `cpuPercent`: user + system CPU time (`os.times`, what psutil's `cpu_percent`, and so Locust's own
  `cpu_usage`, reads), as a percentage of one core;
- `cpuWaitPercent`: the time its main thread was runnable but waiting for a CPU
  (`/proc/self/schedstat`; None where the kernel does not say). A generator on a machine shared
  with busy neighbours gets less than the core it wants: its CPU alone then looks healthy while its
  requests wait all the same. CPU plus wait is what it asked for (its demand);
- `memoryBytes`: its resident set size (psutil, as Locust's `memory_usage`).

A worker sends its counters to the master every REPORT_SECONDS (a Locust custom message). The master,
or a single process, answers GET ROUTE (behind the web guard) with one reading per process: its
usage since the previous answer, so that readings taken at each poll tile the run and a missed poll
only makes the next window longer. Windows restart when a swarm starts (`test_start`), so the wait
for workers before the load is not counted as idle load time. A worker that sent no counters (one
started without this module) is read from Locust's own heartbeat (`cpu_usage`, `memory_usage`,
which Locust refreshes every 10 s): `windowSeconds` is then null.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

ROUTE = "/load-manager/generators"
MESSAGE = "load_manager_usage"
REPORT_SECONDS = 1.0
SCHEDSTAT = "/proc/self/schedstat"


def counters() -> dict[str, Any]:
    """This process's cumulative counters now: monotonic time, CPU seconds, CPU-wait seconds (or None), RSS."""
    times = os.times()
    return {"at": time.monotonic(), "cpu": times.user + times.system, "wait": _wait_seconds(), "rss": _rss()}


def usage(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """The reading of the window between two counters of one process (None: no time passed)."""
    seconds = after["at"] - before["at"]
    if seconds <= 0:
        return None
    waited = None if after.get("wait") is None or before.get("wait") is None else (after["wait"] - before["wait"]) / seconds * 100
    return {
        "cpuPercent": round(max(after["cpu"] - before["cpu"], 0.0) / seconds * 100, 1),
        "cpuWaitPercent": None if waited is None else round(max(waited, 0.0), 1),
        "memoryBytes": after.get("rss"),
        "windowSeconds": round(seconds, 3),
    }


class Generators:
    """The readings a master (or a single process) serves: its own, and each worker's."""

    def __init__(self, role: str, runner: Any = None):
        self.role, self.runner = role, runner
        self.own = counters()
        self.workers: dict[str, dict[str, Any]] = {}  # node id -> {"served": counters, "latest": counters}

    def restart(self, **_: Any) -> None:
        """A swarm starts: windows begin now (what came before was waiting, not load)."""
        self.own = counters()
        for worker in self.workers.values():
            worker["served"] = worker["latest"]

    def received(self, environment: Any = None, msg: Any = None, **_: Any) -> None:
        """A worker's counters (a custom message)."""
        latest = dict(msg.data)
        worker = self.workers.setdefault(msg.node_id, {"served": latest})
        worker["latest"] = latest

    def answer(self) -> dict[str, Any]:
        now = counters()
        readings = [{"id": self.role, "role": self.role, "index": None, **(usage(self.own, now) or _empty(now))}]
        self.own = now
        for node_id, worker in self.workers.items():
            reading = usage(worker["served"], worker.get("latest", worker["served"]))
            if reading is not None:  # nothing new from it since the last answer: no reading
                worker["served"] = worker["latest"]
                readings.append({"id": node_id, "role": "worker", "index": self._index(node_id), **reading})
        readings += self._heartbeat_only()
        return {"generators": readings}

    def _index(self, node_id: str) -> int | None:
        return (getattr(self.runner, "worker_indexes", None) or {}).get(node_id)

    def _heartbeat_only(self) -> list[dict[str, Any]]:
        """Workers known to the master that send no counters: Locust's own figures."""
        clients = getattr(self.runner, "clients", None) or {}
        return [
            {"id": node_id, "role": "worker", "index": self._index(node_id), "cpuPercent": float(getattr(client, "cpu_usage", 0) or 0),
             "cpuWaitPercent": None, "memoryBytes": getattr(client, "memory_usage", None), "windowSeconds": None}
            for node_id, client in clients.items() if node_id not in self.workers
        ]  # fmt: skip


def on_init(environment: Any = None, runner: Any = None, web_ui: Any = None, **_: Any) -> None:
    """Locust's `events.init` listener, on every process: a worker reports, the rest serve."""
    kind = type(runner).__name__
    if kind == "WorkerRunner":
        import gevent  # lazy: 82 ms at import (bench/cold_import.py --lazy), never at a Locust process's start

        gevent.spawn(_report, runner)
        return
    if web_ui is None or getattr(web_ui, "app", None) is None:
        return
    generators = Generators("master" if kind == "MasterRunner" else "local", runner)
    if kind == "MasterRunner":
        runner.register_message(MESSAGE, generators.received)
    environment.events.test_start.add_listener(generators.restart)
    web_ui.app.add_url_rule(ROUTE, "load_manager_generators", lambda: _json(generators.answer()))


def install(when_imported: Any) -> None:
    """Called by the guard's sitecustomize: add `on_init` once `locust.main` is imported."""
    when_imported("locust.main", lambda _main: sys.modules["locust"].events.init.add_listener(on_init))


def _report(runner: Any) -> None:
    import gevent  # lazy: 82 ms at import (bench/cold_import.py --lazy), never at a Locust process's start

    while True:
        try:
            runner.send_message(MESSAGE, counters())
        except Exception:  # noqa: BLE001 - a lost report only lengthens the next window
            pass
        gevent.sleep(REPORT_SECONDS)


def _json(body: dict[str, Any]) -> Any:
    from flask import Response  # lazy: 288 ms at import (bench/cold_import.py --lazy), loaded by Locust's web UI before any request

    return Response(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "no-store"})


def _empty(now: dict[str, Any]) -> dict[str, Any]:
    return {"cpuPercent": None, "cpuWaitPercent": None, "memoryBytes": now.get("rss"), "windowSeconds": 0.0}


def _wait_seconds() -> float | None:
    try:
        with open(SCHEDSTAT, encoding="ascii") as file:
            return int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _rss() -> int | None:
    try:
        import psutil  # lazy: 64 ms at import (bench/cold_import.py --lazy), Locust's own (its memory_usage comes from it)

        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - memory is a bonus: never fail a reading for it
        return None
