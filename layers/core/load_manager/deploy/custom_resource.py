"""CloudFormation's custom resource protocol: every request gets an answer, whatever happens.

CloudFormation waits up to an hour for a PUT to the request's presigned `ResponseURL`, so a stack
whose Lambda raised, or timed out, without answering hangs that long. Here the answer is sent on
success, on any exception (FAILED, with the error as the reason), and by a timer shortly before the
Lambda's own timeout; only the first one counts.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from load_manager.observability import logger

TIMEOUT_MARGIN_SECONDS = 10.0  # answered this long before Lambda would kill the function
MAX_REASON_CHARS = 1500  # the whole response body must stay under 4 KiB
PUT_ATTEMPTS = 3


@dataclass(frozen=True)
class Request:
    """One custom resource request, as CloudFormation sends it."""

    request_type: str  # Create | Update | Delete
    resource_type: str
    logical_id: str
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any]
    physical_id: str | None
    stack_id: str
    request_id: str
    response_url: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        properties = dict(event.get("ResourceProperties") or {})
        properties.pop("ServiceToken", None)
        return cls(
            request_type=event["RequestType"],
            resource_type=event.get("ResourceType", ""),
            logical_id=event["LogicalResourceId"],
            properties=properties,
            old_properties=dict(event.get("OldResourceProperties") or {}),
            physical_id=event.get("PhysicalResourceId"),
            stack_id=event["StackId"],
            request_id=event["RequestId"],
            response_url=event["ResponseURL"],
        )


@dataclass(frozen=True)
class Outcome:
    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Outcome]


class Responder:
    """Sends the one answer to CloudFormation; later attempts (the timer, or the handler after it) are dropped."""

    def __init__(self, request: Request, log_stream: str = ""):
        self.request = request
        self.log_stream = log_stream
        self._lock = threading.Lock()
        self.sent: str | None = None

    def success(self, outcome: Outcome) -> None:
        self._send("SUCCESS", outcome.physical_id, "", outcome.data)

    def failure(self, reason: str) -> None:
        # A failed Create still needs a physical id; CloudFormation then sends a Delete for it.
        physical_id = self.request.physical_id or f"{self.request.logical_id}-not-created"
        where = f" (log stream {self.log_stream})" if self.log_stream else ""
        self._send("FAILED", physical_id, reason[:MAX_REASON_CHARS] + where, {})

    def _send(self, status: str, physical_id: str, reason: str, data: Mapping[str, str]) -> None:
        with self._lock:
            if self.sent is not None:
                return
            self.sent = status
            body = json.dumps({
                "Status": status,
                "Reason": reason or status,
                "PhysicalResourceId": physical_id,
                "StackId": self.request.stack_id,
                "RequestId": self.request.request_id,
                "LogicalResourceId": self.request.logical_id,
                "NoEcho": False,
                "Data": dict(data),
            }).encode()
            _put(self.request.response_url, body)
            logger.info("answered CloudFormation", extra={"status": status, "physical_id": physical_id, "reason": reason})


def _put(url: str, body: bytes) -> None:
    # The presigned URL is signed without a content type: send none (as cfn-response does).
    for attempt in range(1, PUT_ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            return
        except OSError as error:  # URLError and HTTPError are OSErrors
            logger.warning("answering CloudFormation failed", extra={"attempt": attempt, "error": str(error)})
            if attempt == PUT_ATTEMPTS:
                raise
            time.sleep(attempt)


def handle(event: Mapping[str, Any], context: Any, handlers: Mapping[str, Handler]) -> None:
    """Run the handler for the event's resource type and always answer CloudFormation."""
    request = Request.from_event(event)
    responder = Responder(request, getattr(context, "log_stream_name", ""))
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0
    timer = threading.Timer(max(remaining - TIMEOUT_MARGIN_SECONDS, 0.0), responder.failure, args=("timed out before finishing",))
    timer.daemon = True
    timer.start()
    try:
        handler = handlers.get(request.resource_type)
        if handler is None and request.request_type == "Delete":
            # Nothing of ours was made for a type we do not know: let the stack delete it.
            responder.success(Outcome(request.physical_id or request.logical_id))
        elif handler is None:
            responder.failure(f"no handler for resource type {request.resource_type!r} (known: {', '.join(sorted(handlers))})")
        else:
            logger.info("custom resource request", extra={"type": request.resource_type, "request": request.request_type})
            responder.success(handler(request))
    except Exception as error:  # whatever failed, CloudFormation must hear about it
        logger.exception("custom resource request failed")
        responder.failure(f"{type(error).__name__}: {error}")
    finally:
        timer.cancel()
