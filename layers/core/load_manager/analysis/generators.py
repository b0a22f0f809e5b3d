"""Generator health, judged from a run's samples: was any load generator saturated?

A generator (a Locust process: the single process, the master, each worker) is saturated when it
spent more than MAX_SHARE of its observed time above THRESHOLD_PERCENT of one core. What counts is
its demand: CPU time plus the time it was ready to run but waited for a CPU. On a machine of its
own the two are the same thing; on a shared one a generator that wants a whole core gets less, and
its requests wait all the same (CPU alone would call a starved generator healthy).

Each reading covers a window (the time since the sample before, measured by the generator itself),
so the share is weighted by the windows: a missed poll makes the next window longer, and is
counted, not lost. A reading without a window (Locust's own heartbeat figure, from a worker that
sends no counters) stands for the run's usual interval between samples. Too little to judge: fewer
than MIN_READINGS readings or MIN_OBSERVED_SECONDS of observed time (a run of a few seconds, one
reading taken while Locust started) says nothing of that generator either way.

The series of each generator is downsampled like the run's metrics: buckets aligned to the run's
start, each point the highest reading of its bucket (a peak must stay visible).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import median

from load_manager.analysis.series import bucket_of
from load_manager.models.generators import GeneratorFigures, GeneratorHealth, GeneratorReading, GeneratorSeries

THRESHOLD_PERCENT = 90.0
MAX_SHARE = 0.10
MIN_READINGS = 2
MIN_OBSERVED_SECONDS = 2.0
DEFAULT_INTERVAL_SECONDS = 1.0  # a heartbeat reading's weight when the samples say nothing better

Samples = Sequence[tuple[int, Sequence[GeneratorReading]]]


def generator_name(reading: GeneratorReading) -> str:
    if reading.role == "local":
        return "locust"
    if reading.role == "master":
        return "master"
    return f"worker {reading.index}" if reading.index is not None else f"worker {reading.id}"


def judge(samples: Samples) -> GeneratorHealth | None:
    """The verdict over `samples` ((at, readings) oldest first); None when there is no reading at all."""
    by_generator = _by_generator(samples)
    if not by_generator:
        return None
    interval = _usual_interval(samples)
    figures = [_figures(readings, interval) for readings in by_generator.values()]
    figures.sort(key=lambda f: (not f.saturated, -f.share_above, f.generator))
    return GeneratorHealth(
        saturated=any(f.saturated for f in figures), threshold_percent=THRESHOLD_PERCENT, max_share=MAX_SHARE,
        min_readings=MIN_READINGS, min_observed_seconds=MIN_OBSERVED_SECONDS, generators=figures, message=_message(figures),
    )  # fmt: skip


def series(samples: Samples, origin: int, step: int) -> list[GeneratorSeries]:
    """Each generator's readings in buckets of `step` ms aligned to `origin`: the highest of each bucket."""
    out: dict[str, GeneratorSeries] = {}
    for at, readings in samples:
        bucket = bucket_of(at, origin, step)
        for reading in readings:
            line = out.get(reading.id)
            if line is None:
                line = out[reading.id] = GeneratorSeries(generator=generator_name(reading), id=reading.id, role=reading.role)
            if line.time and line.time[-1] == bucket:
                _raise(line, reading)
            else:
                line.time.append(bucket)
                line.cpu_percent.append(reading.cpu_percent)
                line.cpu_wait_percent.append(reading.cpu_wait_percent)
                line.memory_bytes.append(reading.memory_bytes)
    return sorted(out.values(), key=lambda line: (line.role != "master", line.role != "local", line.generator))


def _raise(line: GeneratorSeries, reading: GeneratorReading) -> None:
    line.cpu_percent[-1] = _highest(line.cpu_percent[-1], reading.cpu_percent)
    line.cpu_wait_percent[-1] = _highest(line.cpu_wait_percent[-1], reading.cpu_wait_percent)
    line.memory_bytes[-1] = _highest(line.memory_bytes[-1], reading.memory_bytes)


def _highest(a, b):
    return b if a is None else a if b is None else max(a, b)


def _by_generator(samples: Samples) -> dict[str, list[GeneratorReading]]:
    found: dict[str, list[GeneratorReading]] = {}
    for _, readings in samples:
        for reading in readings:
            found.setdefault(reading.id, []).append(reading)
    return found


def _usual_interval(samples: Samples) -> float:
    times = [at for at, _ in samples]
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False) if b > a]
    return median(gaps) if gaps else DEFAULT_INTERVAL_SECONDS


def _figures(readings: list[GeneratorReading], interval: float) -> GeneratorFigures:
    weights = [r.window_seconds if r.window_seconds is not None else interval for r in readings]
    observed = sum(weights)
    above = [w for r, w in zip(readings, weights, strict=True) if r.demand_percent > THRESHOLD_PERCENT]
    share = sum(above) / observed if observed > 0 else 0.0
    judged = len(readings) >= MIN_READINGS and observed >= MIN_OBSERVED_SECONDS
    memory = [r.memory_bytes for r in readings if r.memory_bytes is not None]
    first = readings[0]
    return GeneratorFigures(
        generator=generator_name(first), id=first.id, role=first.role, samples=len(readings), samples_above=len(above),
        observed_seconds=round(observed, 3), share_above=round(share, 4), peak_percent=round(max(r.demand_percent for r in readings), 1),
        peak_cpu_percent=round(max(r.cpu_percent for r in readings), 1), peak_memory_bytes=max(memory) if memory else None,
        judged=judged, saturated=judged and share > MAX_SHARE,
    )  # fmt: skip


def _message(figures: Iterable[GeneratorFigures]) -> str:
    figures = list(figures)
    saturated = [f for f in figures if f.saturated]
    if saturated:
        above = f"above {THRESHOLD_PERCENT:g} % of a core"
        worst = ", ".join(f"{f.generator} spent {f.share_above:.0%} of its time {above} (peak {f.peak_percent:g} %)" for f in saturated)
        return f"Load generator saturated: {worst}. The numbers may understate what the target can do: add workers or lighten the script."
    if not any(f.judged for f in figures):
        return "Too few generator readings to judge (a very short run)."
    peak = max(f.peak_percent for f in figures)
    return f"No load generator was saturated (highest demand {peak:g} % of a core)."
