"""Generator health: what each Locust process of a run used of its machine, sampled at each poll,
and the verdict Finalize draws from it (analysis/generators.py)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, TypeAdapter

from load_manager.models.base import ApiModel


class GeneratorReading(ApiModel):
    """One Locust process over one sample's window (the time since the sample before)."""

    id: str = Field(description='"local" (a single process), "master", or a worker\'s Locust node id')
    role: str = Field(description="local, master or worker")
    index: int | None = Field(default=None, description="A worker's index (Locust's, 0-based)")
    cpu_percent: float = Field(description="CPU time over the window, % of one core")
    cpu_wait_percent: float | None = Field(
        default=None, description="Time it was ready to run but waited for a CPU, % of the window (null: the kernel does not say)"
    )
    memory_bytes: int | None = Field(default=None, description="Resident memory at the window's end")
    window_seconds: float | None = Field(default=None, description="The window; null: Locust's own heartbeat figure (refreshed every 10 s)")

    @property
    def demand_percent(self) -> float:
        """What it asked of the machine: CPU time plus the time it waited for a CPU."""
        return self.cpu_percent + (self.cpu_wait_percent or 0.0)


# A sample's readings, as the stores read them back; built on first use, like the models (base.py).
READINGS = TypeAdapter(list[GeneratorReading], config=ConfigDict(defer_build=True))


class GeneratorFigures(ApiModel):
    generator: str = Field(description='Its name: "locust" (a single process), "master", "worker 0", ...')
    id: str
    role: str
    samples: int = Field(description="Readings taken of it")
    samples_above: int = Field(description="Readings above the threshold")
    observed_seconds: float = Field(description="The time its readings cover")
    share_above: float = Field(description="Share of the observed time above the threshold (0-1)")
    peak_percent: float = Field(description="Highest demand (CPU + CPU wait), % of one core")
    peak_cpu_percent: float = Field(description="Highest CPU, % of one core")
    peak_memory_bytes: int | None = None
    judged: bool = Field(description="Enough readings to judge it (see minReadings, minObservedSeconds)")
    saturated: bool


class GeneratorHealth(ApiModel):
    """Was any load generator saturated: above `thresholdPercent` of a core (CPU plus the time it
    waited for one) for more than `maxShare` of its observed time. Then the numbers may understate
    what the target can do: the load asked for may not have been applied, and response times
    include the generator's own delays."""

    saturated: bool
    threshold_percent: float
    max_share: float
    min_readings: int
    min_observed_seconds: float
    generators: list[GeneratorFigures] = Field(default_factory=list)
    message: str = Field(description="The verdict in words")


class GeneratorSeries(ApiModel):
    """One generator's readings, downsampled like the metrics series: each point the highest of its bucket."""

    generator: str
    id: str
    role: str
    time: list[int] = Field(default_factory=list, description="Bucket starts, epoch ms")
    cpu_percent: list[float | None] = Field(default_factory=list)
    cpu_wait_percent: list[float | None] = Field(default_factory=list)
    memory_bytes: list[int | None] = Field(default_factory=list)


class RunGenerators(ApiModel):
    run_id: str
    origin: int = Field(description="Epoch ms the buckets are aligned to (the run's start)")
    step_ms: int
    complete: bool = Field(description="The run is final")
    generator_saturated: bool | None = Field(description="The verdict kept at Finalize; null before, or when Locust gave no readings")
    health: GeneratorHealth | None = Field(default=None, description="The verdict's figures (a live run: as they stand)")
    generators: list[GeneratorSeries] = Field(default_factory=list)
