"""How load varies over a run and how its test data is shared out: a load profile (stages of users
over time, applied by a shape the loader supplies, no script edit) and a data split (CSV files of
the bundle whose rows each worker gets its own share of). Run settings, triggers, schedules and a
test's defaults all carry them (docs/how-to/load-profiles.md, docs/how-to/worker-data.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from load_manager.models.base import RequestModel, SpawnRate

MAX_STAGES = 50
MAX_PROFILE_SECONDS = 86_400  # a run's own limit (DurationSeconds)
MAX_DATA_SPLIT_FILES = 20


class LoadStage(RequestModel):
    duration_seconds: Annotated[int, Field(ge=1, le=MAX_PROFILE_SECONDS, description="How long this stage holds")]
    users: Annotated[int, Field(ge=0, le=100_000, description="Users during this stage (0: a pause; not the first stage)")]
    spawn_rate: SpawnRate | None = Field(
        default=None, description="Users started (or stopped) per second to reach this stage; absent: the change takes about a second"
    )


class LoadProfile(RequestModel):
    """Stages run one after the other from the start of the load; the run lasts their total."""

    stages: Annotated[list[LoadStage], Field(min_length=1, max_length=MAX_STAGES)]

    @model_validator(mode="after")
    def _bounded(self) -> LoadProfile:
        if self.stages[0].users < 1:
            raise ValueError("the first stage needs at least one user (a run starts with load)")
        if self.total_seconds > MAX_PROFILE_SECONDS:
            raise ValueError(f"the stages last {self.total_seconds} s in all; a run lasts at most {MAX_PROFILE_SECONDS} s")
        return self

    @property
    def total_seconds(self) -> int:
        return sum(stage.duration_seconds for stage in self.stages)

    @property
    def peak_users(self) -> int:
        return max(stage.users for stage in self.stages)

    def plan(self) -> list[tuple[int, int, float]]:
        """(durationSeconds, users, spawnRate) per stage, every spawn rate filled in: what the
        loader's shape runs (a stage without one changes users in about a second)."""
        stages, previous = [], 0
        for stage in self.stages:
            rate = stage.spawn_rate if stage.spawn_rate is not None else float(max(1, abs(stage.users - previous)))
            stages.append((stage.duration_seconds, stage.users, rate))
            previous = stage.users
        return stages

    def users_at(self, seconds: float) -> int | None:
        """The users the profile asks for `seconds` after the load began; None once it has ended."""
        elapsed = 0
        for stage in self.stages:
            elapsed += stage.duration_seconds
            if seconds < elapsed:
                return stage.users
        return None


# A bundle path (checked against the run's revision: an existing, text .csv file, not the entry).
DataSplitPath = Annotated[str, StringConstraints(min_length=1, max_length=512)]
DataSplit = Annotated[
    list[DataSplitPath],
    Field(
        max_length=MAX_DATA_SPLIT_FILES,
        description="CSV files of the bundle whose rows are shared out between the workers: each worker keeps the header and its "
        "own contiguous share of the rows, every row used exactly once ([] for none)",
        examples=[["data/users.csv"]],
    ),
]
