"""One background thread that handles submitted items in order, as AWS's asynchronous deliveries do
(Lambda's event invocations, EventBridge's API destinations); `drain` waits until all are handled."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


class BackgroundDeliveries:
    """Subclasses say how one item is handled (`handle`) and name it in the log (`describe`)."""

    thread_name = "local-deliveries"
    stop_timeout = 30.0

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)
        self._thread.start()

    def _submit(self, item: Any) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(item)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every submitted item has been handled."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                if not self._idle.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"{self._pending} {self.thread_name} still pending after {timeout} s")

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=self.stop_timeout)

    def handle(self, item: Any) -> None:
        raise NotImplementedError

    def describe(self, item: Any) -> str:
        return repr(item)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self.handle(item)
            except Exception:  # noqa: BLE001 - the worker outlives any one delivery
                log.exception("delivery to %s failed", self.describe(item))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
