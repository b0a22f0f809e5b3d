"""API Gateway's side of the HTTP API's Lambda authorizer, in process (`serve`, the tests' API):
the REQUEST event (payload 2.0) it sends the authorizer function, what it makes of the answer
(simple responses), and its cache of answers per identity for the template's TTL.

What API Gateway answers, and so what this answers:
- the identity source (the Authorization header) missing: 401, the authorizer is not invoked;
- the authorizer fails with exactly "Unauthorized": 401 `{"message": "Unauthorized"}`;
- `{"isAuthorized": false}`: 403 `{"message": "Forbidden"}`;
- any other failure, or an answer of another shape: 500 (logged here; in AWS, in the authorizer's log);
- `{"isAuthorized": true, "context": {...}}`: the request goes on with the context at
  `requestContext.authorizer.lambda`.
An answer the function returned (allow or deny) is cached per identity; a failure is not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from load_manager_local.template import HttpAuthorizer

log = logging.getLogger("load_manager_local")
MAX_CACHED = 1024  # identities; the oldest go first (a cache, never a reason to refuse)


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


UNAUTHORIZED = Refusal(401, "Unauthorized")
FORBIDDEN = Refusal(403, "Forbidden")
FAILED = Refusal(500, "Internal Server Error")


class GatewayAuthorizer:
    def __init__(self, authorizer: HttpAuthorizer, clock: Callable[[], float] = time.monotonic):
        self.authorizer, self.clock = authorizer, clock
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def identity(self, headers: Mapping[str, str]) -> tuple[str, ...] | None:
        """The identity source's values; None when one is missing or empty."""
        lowered = {k.lower(): v for k, v in headers.items()}
        values = tuple(str(lowered.get(name) or "") for name in self.authorizer.identity_headers)
        return values if all(values) else None

    def authorize(self, event: Mapping[str, Any], invoke: Callable[[dict[str, Any]], Any]) -> dict[str, Any] | Refusal:
        """The authorizer's context for the request `event` (an HTTP API v2 event), or API Gateway's refusal.
        `invoke` runs the authorizer function on its event."""
        identity = self.identity(event.get("headers") or {})
        if identity is None:
            return UNAUTHORIZED
        cached = self._cached(identity)
        if cached is not None:
            return cached[1] if cached[1] is not None else FORBIDDEN
        try:
            answer = invoke(authorizer_event(event, identity))
        except Exception as exc:  # noqa: BLE001 - as API Gateway: the function failed, the request does not go on
            if str(exc) == "Unauthorized":
                return UNAUTHORIZED
            log.exception("the Lambda authorizer failed")
            return FAILED
        if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
            log.error("the Lambda authorizer answered %r, not a simple response", type(answer).__name__)
            return FAILED
        context = dict(answer.get("context") or {}) if answer["isAuthorized"] else None
        self._store(identity, context)
        return context if context is not None else FORBIDDEN

    def _cached(self, identity: tuple[str, ...]) -> tuple[float, dict[str, Any] | None] | None:
        with self._lock:
            entry = self._cache.get(identity)
            if entry is None or entry[0] <= self.clock():
                return None
            return entry

    def _store(self, identity: tuple[str, ...], context: dict[str, Any] | None) -> None:
        if self.authorizer.ttl_seconds <= 0:
            return
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[identity] = (self.clock() + self.authorizer.ttl_seconds, context)


def authorizer_event(event: Mapping[str, Any], identity: tuple[str, ...]) -> dict[str, Any]:
    """The REQUEST authorizer's event (payload 2.0) for an HTTP API v2 request event."""
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    api = f"{context.get('accountId')}:{context.get('apiId')}/{context.get('stage')}"
    copied = ("routeKey", "rawPath", "rawQueryString", "headers", "queryStringParameters", "pathParameters")
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:{api}/{http.get('method')}{http.get('path')}",
        "identitySource": list(identity),
        **{key: event[key] for key in copied if key in event},
        "requestContext": {key: value for key, value in context.items() if key != "authorizer"},
    }
