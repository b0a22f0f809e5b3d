"""One place for logging and metrics. Tracer is left out: its import cost is not earned here."""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="load-manager")
