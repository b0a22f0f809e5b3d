"""EventBridge API destinations in `serve`: a rule's target that is an API destination gets an HTTP
request, as EventBridge makes it (moto stores connections and destinations but sends nothing useful).

What EventBridge does, done here:
- the request goes to the destination's endpoint with its HTTP method, the body being what the target
  says (`Input`, `InputPath`, `InputTransformer`: aws.render_input), `Content-Type: application/json;
  charset=utf-8` and `User-Agent: Amazon/EventBridge/ApiDestinations`;
- the target's HttpParameters: header and query string values that are JSON paths (`$.detail.x`) are
  taken from the event (a missing one is empty), as AWS resolves them; the connection's authorization
  (API key header, basic auth) and its invocation parameters are added, the connection's values
  winning over the target's;
- an answer has 5 seconds; 401, 407, 409, 429, 5xx, a timeout or a refused connection are retried
  with back-off while the target's RetryPolicy allows (capped locally: `RETRY_DELAYS_S`), other
  answers are not; what still failed is appended to `<data>/dead-letters.jsonl` with the rule, the
  target, the error and the event, as EventBridge sends it to the target's dead-letter queue.

Deliveries run on one background thread, in order, so a slow endpoint never blocks a put.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from load_manager_local.background import BackgroundDeliveries

log = logging.getLogger("load_manager_local.api_destinations")

TIMEOUT_S = 5.0  # EventBridge's limit on an API destination's answer
RETRYABLE_STATUSES = frozenset({401, 407, 409, 429})  # and every 5xx (EventBridge's user guide)
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0)  # EventBridge backs off for up to MaximumEventAgeInSeconds; locally nobody waits that long
DEFAULT_RETRY_ATTEMPTS = 185  # EventBridge's default RetryPolicy
USER_AGENT = "Amazon/EventBridge/ApiDestinations"


class Letters(Protocol):
    def append(self, record: dict[str, Any]) -> None: ...


Render = Callable[[dict[str, Any], dict[str, Any], str, str], Any]  # (target, event, rule name, rule ARN) -> input
Lookup = Callable[[str, dict[str, Any]], Any]  # (JSON path, event) -> its first value, or None


@dataclass(frozen=True)
class Delivery:
    backend: Any  # moto's EventsBackend of the rule
    rule_name: str
    rule_arn: str
    target: dict[str, Any]
    event: dict[str, Any]  # as EventBridge hands it to a target


@dataclass(frozen=True)
class Attempt:
    status: int | None  # None: no answer (timeout, refused)
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES or self.status >= 500


def is_api_destination(target: dict[str, Any]) -> bool:
    return ":api-destination/" in str(target.get("Arn", ""))


class ApiDestinations(BackgroundDeliveries):
    thread_name = "local-api-destinations"
    stop_timeout = 60.0

    def __init__(self, dead_letters: Letters, render: Render, lookup: Lookup):
        self.dead_letters, self.render, self.lookup = dead_letters, render, lookup
        super().__init__()

    def submit(self, delivery: Delivery) -> None:
        self._submit(delivery)

    def handle(self, item: Delivery) -> None:
        self.deliver(item)

    def describe(self, item: Delivery) -> str:
        return str(item.target.get("Arn"))

    def deliver(self, delivery: Delivery) -> None:
        destination, connection = _resources(delivery)
        if destination is None:
            self._dead_letter(delivery, Attempt(None, "the API destination does not exist"), 0, "NotRetryable")
            return
        url, headers, body = self.request(delivery, destination, connection)
        allowed = int((delivery.target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        attempts = 1 + min(allowed, len(RETRY_DELAYS_S))
        for number in range(1, attempts + 1):
            outcome = _post(destination.http_method or "POST", url, headers, body)
            if outcome.ok:
                return
            log.warning("rule %s -> %s: %s (attempt %d)", delivery.rule_name, destination.name, outcome.error, number)
            if not outcome.retryable:
                self._dead_letter(delivery, outcome, number, "NotRetryable")
                return
            if number < attempts:
                time.sleep(RETRY_DELAYS_S[number - 1])
        self._dead_letter(delivery, outcome, attempts, "MaximumRetryAttempts")

    def request(self, delivery: Delivery, destination: Any, connection: Any) -> tuple[str, dict[str, str], bytes]:
        payload = self.render(delivery.target, delivery.event, delivery.rule_name, delivery.rule_arn)
        body = payload.encode() if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        http = delivery.target.get("HttpParameters") or {}
        headers = {k: self._value(v, delivery.event) for k, v in (http.get("HeaderParameters") or {}).items()}
        query = {k: self._value(v, delivery.event) for k, v in (http.get("QueryStringParameters") or {}).items()}
        conn_headers, conn_query = _connection_parameters(connection)
        headers = {"Content-Type": "application/json; charset=utf-8", **headers, **conn_headers, "User-Agent": USER_AGENT}
        query |= conn_query
        url = destination.invocation_endpoint
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        return url, headers, body

    def _value(self, value: str, event: dict[str, Any]) -> str:
        if not str(value).startswith("$."):
            return str(value)
        found = self.lookup(str(value), event)
        return "" if found is None else found if isinstance(found, str) else json.dumps(found)

    def _dead_letter(self, delivery: Delivery, outcome: Attempt, attempts: int, condition: str) -> None:
        self.dead_letters.append({
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "rule": delivery.rule_name, "ruleArn": delivery.rule_arn,
            "targetArn": delivery.target.get("Arn"), "errorCode": "ERROR_FROM_TARGET" if outcome.status else "CONNECTION_FAILURE",
            "errorMessage": outcome.error, "status": outcome.status, "retryAttempts": max(0, attempts - 1),
            "exhaustedRetryCondition": condition, "event": delivery.event,
        })  # fmt: skip


def _resources(delivery: Delivery) -> tuple[Any, Any]:
    name = str(delivery.target["Arn"]).split(":api-destination/", 1)[1].split("/")[0]
    destination = delivery.backend.destinations.get(name)
    if destination is None:
        return None, None
    connection_name = str(destination.connection_arn).split(":connection/", 1)[-1].split("/")[0]
    return destination, delivery.backend.connections.get(connection_name)


def _connection_parameters(connection: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The connection's authorization and invocation parameters: (headers, query string)."""
    if connection is None:
        return {}, {}
    auth = connection.auth_parameters or {}
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    invocation = auth.get("InvocationHttpParameters") or {}
    for item in invocation.get("HeaderParameters") or []:
        headers[str(item["Key"])] = str(item["Value"])
    for item in invocation.get("QueryStringParameters") or []:
        query[str(item["Key"])] = str(item["Value"])
    if api_key := auth.get("ApiKeyAuthParameters"):
        headers[str(api_key["ApiKeyName"])] = str(api_key["ApiKeyValue"])
    if basic := auth.get("BasicAuthParameters"):
        token = base64.b64encode(f"{basic['Username']}:{basic['Password']}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return headers, query


def _post(method: str, url: str, headers: dict[str, str], body: bytes) -> Attempt:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - the destination's own URL
            return Attempt(answer.status, f"HTTP {answer.status}")
    except urllib.error.HTTPError as exc:
        return Attempt(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Attempt(None, f"no answer: {getattr(exc, 'reason', exc)}")
