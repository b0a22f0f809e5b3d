"""The sweeper, invoked every few minutes by an EventBridge schedule (not by API Gateway): ends the
runs no execution drives and sends the events no step will (load_manager/lifecycle/sweeper.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from load_manager.adapters.step_functions import default_starter
from load_manager.backends import backend_for
from load_manager.lifecycle.sweeper import sweep
from load_manager.observability import logger, metrics
from load_manager.store import get_stores


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep(get_stores(), backend_for, default_starter())
    if report.started or report.failed or report.cancelled or report.events_sent or report.errors:
        logger.info("sweep settled runs", extra={"sweep": report.as_dict()})  # a quiet sweep says nothing
    return report.as_dict()
