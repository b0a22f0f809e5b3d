"""Downsampling a run's metrics samples into chart-ready columns (at most MAX_POINTS per series).

Buckets are aligned to the run's start (`origin`), so a zoomed window, a live poll with `since` and
the whole run all agree on where a bucket begins. A point summarises the samples of its bucket:
- `users` and the percentiles: the highest value any sample of the bucket reported. Percentiles are
  never averaged (an average of p95s is not a p95 of anything); the maximum is an upper envelope
  that keeps every spike visible, and with one sample per bucket it is the sample itself.
- `rps` and `failuresPerSecond`: the mean of the samples' rates (rates do average over evenly
  spaced samples).
`downsample` is that rule in Python; the stores apply it where the samples are (SQL GROUP BY over
narrow rows, MongoDB $group), so a long run never travels to Python sample by sample, and the
contract tests hold both stores to `downsample`. A final run's default series never changes: it is
computed once at Finalize and kept encoded, so reading a finished run costs one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

MAX_POINTS = 1000
MIN_STEP_MS = 1000
# A window straddles at most two partial buckets besides the whole ones: keep room for them.
_BUCKETS_FOR_SPAN = MAX_POINTS - 2


class SeriesRow(NamedTuple):
    """One sample, as the series need it (what the stores read)."""

    at: int
    users: int | None
    rps: float | None
    failures_per_second: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass
class Columns:
    time: list[int] = field(default_factory=list)
    users: list[int | None] = field(default_factory=list)
    rps: list[float | None] = field(default_factory=list)
    failures_per_second: list[float | None] = field(default_factory=list)
    p50_ms: list[float | None] = field(default_factory=list)
    p95_ms: list[float | None] = field(default_factory=list)
    p99_ms: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.time)

    def add(self, time: int, users: int | None, rps: float | None, fps: float | None, p50: float | None, p95: float | None, p99: float | None):
        """One more point (a store's grouped row)."""
        self.time.append(time)
        self.users.append(users)
        self.rps.append(rps)
        self.failures_per_second.append(fps)
        self.p50_ms.append(p50)
        self.p95_ms.append(p95)
        self.p99_ms.append(p99)


def step_for(span_ms: int, requested: int | None = None) -> int:
    """The bucket width: `requested` if it keeps the window within MAX_POINTS, else the smallest
    whole number of seconds that does (so the default step covers the whole window)."""
    smallest = max(MIN_STEP_MS, -(-max(span_ms, 0) // _BUCKETS_FOR_SPAN))
    smallest = -(-smallest // 1000) * 1000
    return max(requested or 0, smallest)


def bucket_of(at: int, origin: int, step: int) -> int:
    return origin + ((at - origin) // step) * step


def downsample(rows: list[SeriesRow], origin: int, step: int) -> Columns:
    """`rows` oldest first; one point per bucket that has samples."""
    out = Columns()
    bucket: list[SeriesRow] = []
    current: int | None = None
    for row in rows:
        start = bucket_of(row.at, origin, step)
        if start != current and bucket:
            _append(out, current, bucket)  # type: ignore[arg-type]
            bucket = []
        current = start
        bucket.append(row)
    if bucket:
        _append(out, current, bucket)  # type: ignore[arg-type]
    return out


def _append(out: Columns, start: int, rows: list[SeriesRow]) -> None:
    out.time.append(start)
    if len(rows) == 1:  # the common case when the step is the sampling interval
        row = rows[0]
        out.users.append(row.users)
        out.rps.append(_round(row.rps))
        out.failures_per_second.append(_round(row.failures_per_second))
        out.p50_ms.append(row.p50_ms)
        out.p95_ms.append(row.p95_ms)
        out.p99_ms.append(row.p99_ms)
        return
    out.users.append(_highest(r.users for r in rows))
    out.rps.append(_round(_mean(r.rps for r in rows)))
    out.failures_per_second.append(_round(_mean(r.failures_per_second for r in rows)))
    out.p50_ms.append(_highest(r.p50_ms for r in rows))
    out.p95_ms.append(_highest(r.p95_ms for r in rows))
    out.p99_ms.append(_highest(r.p99_ms for r in rows))


def _highest(values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
