"""Identifiers and the clock, in one place so tests and stores agree on their shape.

Every time the lifecycle, the use cases and the stores record or compare goes through `now_ms`,
so a test that skips waits (the fast ASL walker) moves this one clock by what it skipped instead
of racing the wall clock.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
MAX_REVISION_NUMBER = 1_000_000_000


def new_id() -> str:
    return uuid.uuid4().hex


def is_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


_clock: Callable[[], int] = wall_clock_ms


def now_ms() -> int:
    return _clock()


def use_clock(clock: Callable[[], int] | None) -> Callable[[], int]:
    """Read time from `clock` (epoch milliseconds) from now on, None for the wall clock; returns
    the clock it replaces. For tests that advance time themselves."""
    global _clock
    previous, _clock = _clock, clock or wall_clock_ms
    return previous
