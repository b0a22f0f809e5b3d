"""A clock that moves only when told: installed as the layer's clock (`load_manager.ids.use_clock`)
by tests that skip waits, so what they skip is still time that passed for the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from load_manager.ids import use_clock, wall_clock_ms


class FakeClock:
    def __init__(self, start_ms: int | None = None):
        self.ms = wall_clock_ms() if start_ms is None else start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)


@contextmanager
def installed(clock: FakeClock) -> Iterator[FakeClock]:
    previous = use_clock(clock)
    try:
        yield clock
    finally:
        use_clock(previous)
