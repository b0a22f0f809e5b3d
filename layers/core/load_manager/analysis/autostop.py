"""Auto-stop: is the failure ratio over the last window at or above the threshold?

The ratio is a difference of cumulative counts (failures and requests now, minus the same counts at
the start of the window), so it weighs every request of the window equally: never an average of
per-sample ratios. A window needs its whole length of history: the reference is the latest sample
taken at or before `now - window`, or the run's start (counts zero) once that is far enough back.
"""

from __future__ import annotations

from dataclasses import dataclass

from load_manager.models.criteria import AutoStopSettings, StopReason

DEFAULT_AUTO_STOP = AutoStopSettings()


@dataclass(frozen=True)
class Counts:
    at: int  # epoch ms
    requests: int
    failures: int


def window_start(settings: AutoStopSettings, now: int) -> int:
    return now - settings.window_seconds * 1000


def reference(settings: AutoStopSettings, now: int, started_at: int | None, before_window: Counts | None) -> Counts | None:
    """What the window is measured from: the sample at or before its start, else the run's start."""
    if before_window is not None:
        return before_window
    if started_at is not None and started_at <= window_start(settings, now):
        return Counts(at=started_at, requests=0, failures=0)
    return None


def check(settings: AutoStopSettings | None, current: Counts, ref: Counts | None) -> StopReason | None:
    """A StopReason when the run must stop now; None to carry on."""
    if settings is None or not settings.enabled or ref is None:
        return None
    requests, failures = current.requests - ref.requests, current.failures - ref.failures
    if requests <= 0 or failures < 0:  # no traffic in the window (or counts went backwards): nothing to judge
        return None
    ratio = failures / requests
    if ratio < settings.fail_ratio:
        return None
    return StopReason(
        observed_fail_ratio=round(ratio, 6), threshold=settings.fail_ratio, window_seconds=settings.window_seconds,
        requests=requests, failures=failures, at=current.at,
        message=f"auto-stop: {ratio:.1%} of {requests} requests failed over the last {settings.window_seconds} s "
        f"(threshold {settings.fail_ratio:.0%})",
    )  # fmt: skip
