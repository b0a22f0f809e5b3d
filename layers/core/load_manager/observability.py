"""One place for logging and metrics. Tracer is left out: its import cost is not earned here.

Metrics are CloudWatch EMF lines written to stdout and flushed by `@metrics.log_metrics` on each
handler. With `POWERTOOLS_METRICS_DISABLED=true` (the local runtime, the tests) nothing is even
recorded: Powertools would otherwise keep the values in memory, and print them every 100th.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger(service="load-manager")
metrics = Metrics(namespace="LoadManager", service="load-manager")

# A step or request that records nothing is normal here, not something to warn about on every call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

__all__ = ["MetricUnit", "count", "logger", "measure", "metrics"]


def measure(name: str, unit: MetricUnit, value: float) -> None:
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=unit, value=value)


def count(name: str, value: float = 1) -> None:
    measure(name, MetricUnit.Count, value)
