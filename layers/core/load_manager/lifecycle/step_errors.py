"""The error contract between the lifecycle steps and the state machine.

Step Functions matches a Lambda error by the raised class's own name (the runtime's `errorType`),
never by its base classes. So a step never lets the class decide: whatever is transient (an
exception whose `retryable` is true, a database connection blip) reaches the state machine as
`RetryableStepError`, the one name `run_lifecycle.asl.json` retries; everything else keeps its own
name and is caught by `States.ALL` into MarkFailed, whose reason a person can read. A test derives
this from the ASL and from every exception class in the package, so a new class cannot escape it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from typing import Any

RETRYABLE_STEP_ERROR = "RetryableStepError"


class RetryableStepError(Exception):
    """A step failed for a reason that may pass; the state machine retries the step."""

    retryable = True


def is_transient(exc: BaseException) -> bool:
    if getattr(exc, "retryable", False):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    pymongo_errors = sys.modules.get("pymongo.errors")  # only loaded where MongoDB is in use
    return pymongo_errors is not None and isinstance(exc, pymongo_errors.ConnectionFailure)


def as_step_error(exc: Exception) -> Exception:
    """What the state machine should see for `exc`: `RetryableStepError` or `exc` itself."""
    if isinstance(exc, RetryableStepError) or not is_transient(exc):
        return exc
    error = RetryableStepError(f"{type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


def failure_reason(error: dict[str, Any]) -> str:
    """A human reason from Step Functions' {Error, Cause}; a Lambda Cause is the error as JSON.
    A transient error that outlasted its retries reads as the original error, with a note."""
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        message = parsed.get("errorMessage") or cause if isinstance(parsed, dict) else cause
    except (TypeError, ValueError):
        message = cause
    if name == RETRYABLE_STEP_ERROR and message:
        return f"{message} (still failing after the workflow's retries)"[:4000]
    return f"{name}: {message}"[:4000] if message else name
