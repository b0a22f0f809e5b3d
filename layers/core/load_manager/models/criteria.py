"""What a run is judged by: pass/fail criteria and auto-stop (evaluated by load_manager.analysis),
and what judging them found."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, FiniteFloat, StrictBool, StringConstraints, model_validator

from load_manager.models.base import ApiModel, RequestModel

CriterionMetric = Literal["p50Ms", "p90Ms", "p95Ms", "p99Ms", "avgMs", "maxMs", "failRatio", "rps"]
CriterionOperator = Literal["<", "<=", ">", ">="]
# "METHOD name" as Locust reports a row: the request type (GET, POST, or a custom one) and the name.
EndpointKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31} \S.{0,499}$")]
MAX_CRITERIA = 50


class Criterion(RequestModel):
    """A fixed threshold (`operator` + `threshold`), or a maximum regression against the baseline run
    (`maxRegressionPercent`: latencies and failRatio may not grow, rps may not drop, by more than that)."""

    metric: CriterionMetric
    endpoint: EndpointKey | None = Field(
        default=None, description='"METHOD name" as Locust reports it, e.g. "GET /checkout"; absent: all requests'
    )
    operator: CriterionOperator | None = None
    threshold: Annotated[FiniteFloat, Field(ge=0)] | None = None
    max_regression_percent: Annotated[FiniteFloat, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        if self.max_regression_percent is not None:
            if self.operator is not None or self.threshold is not None:
                raise ValueError("a criterion has either operator and threshold, or maxRegressionPercent, not both")
        elif self.operator is None or self.threshold is None:
            raise ValueError("a criterion needs operator and threshold, or maxRegressionPercent")
        if self.metric == "failRatio" and self.threshold is not None and self.threshold > 1:
            raise ValueError("failRatio is a ratio between 0 and 1")
        return self


Criteria = Annotated[list[Criterion], Field(max_length=MAX_CRITERIA)]


class AutoStopSettings(RequestModel):
    """Stop the run when its failure ratio over the last `windowSeconds` is at or above `failRatio`."""

    enabled: StrictBool = True
    fail_ratio: Annotated[float, Field(gt=0, le=1)] = 0.9
    window_seconds: Annotated[int, Field(ge=5, le=3600)] = 60


class CriterionResult(ApiModel):
    criterion: Criterion
    actual: float | None = Field(description="The run's value (null: the endpoint had no requests)")
    baseline: float | None = Field(default=None, description="The baseline run's value, for a regression criterion")
    limit: float | None = Field(default=None, description="The bound the value was held to (threshold, or derived from the baseline)")
    regression_percent: float | None = Field(default=None, description="How much worse than the baseline, in % (negative: better)")
    passed: bool
    message: str


class StopReason(ApiModel):
    kind: Literal["autoStop"] = "autoStop"
    observed_fail_ratio: float
    threshold: float = Field(description="The auto-stop failRatio")
    window_seconds: int
    requests: int = Field(description="Requests in the window")
    failures: int = Field(description="Failures in the window")
    at: int = Field(description="When it fired (epoch ms)")
    message: str
