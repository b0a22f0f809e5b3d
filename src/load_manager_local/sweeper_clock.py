"""The sweeper's clock, locally: `serve` runs functions/sweeper every `SWEEP_SECONDS`, as the
stack's EventBridge schedule does in AWS (template.yaml, SweeperFunction), with the same handler in
the settings its template environment gives it (load_manager_local.local_functions),
so a run left Pending with no execution, or left active by an execution that ended, is settled on
one machine exactly as in AWS (see load_manager/lifecycle/sweeper.py).

The clock is a daemon thread started and stopped with the local runtime (`LocalRunLifecycle`);
`sweep_now()` runs one sweep on the caller's thread (tests, and the clock itself). Sweeps never
overlap. A runtime started with `recover=False` (`load-manager invoke`) runs none: it must leave
other runtimes' runs alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("load_manager_local.sweeper")
SWEEP_SECONDS = 60.0
SWEEPER_FUNCTION = "load-manager-sweeper"
# What an EventBridge schedule hands the function (the sweeper reads nothing from it).
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


class SweeperClock:
    """`every_seconds` between sweeps; 0 sweeps only when `sweep_now()` is called. `handler`: the
    sweeper function as the runtime invokes it (`serve`: in its template settings, under its template
    `function_name`); by default functions/sweeper's handler, in the process's settings."""

    def __init__(
        self, every_seconds: float = SWEEP_SECONDS, handler: Callable[[Any, Any], Any] | None = None, function_name: str = SWEEPER_FUNCTION
    ) -> None:
        self.every_seconds = every_seconds
        self.handler, self.function_name = handler, function_name
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> SweeperClock:
        if self.every_seconds > 0:
            self._thread = threading.Thread(target=self._loop, name="load-manager-sweeper", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def sweep_now(self) -> dict[str, Any]:
        from load_manager_local.functions import load_function
        from load_manager_local.stepfunctions import LambdaContext, function_arn

        with self._lock:
            context = LambdaContext(function_name=self.function_name, invoked_function_arn=function_arn(self.function_name))
            handler = self.handler or load_function("sweeper").lambda_handler
            return dict(handler(dict(SCHEDULED_EVENT), context))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.sweep_now()
            except Exception:  # the next sweep tries again; a runtime must not die of one
                log.exception("the sweep failed")
