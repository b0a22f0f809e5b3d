"""EventBridge and EventBridge Scheduler in this process, wired as the stack wires them.

moto answers both APIs (in process for our own boto3 calls, and over HTTP under serve's `/aws`
for anyone's: `boto3.client("events", endpoint_url="http://127.0.0.1:PORT/aws")`,
`aws events put-events --endpoint-url …/aws`). What moto lacks is filled in here:
- rule targets that are Lambda functions: moto's EventBridge delivers to SQS, logs and buses only.
  Its `Rule.send_to_targets` is wrapped so a Lambda target gets the event (rendered as AWS renders
  it: ISO time, `Input`, `InputPath` or `InputTransformer` with `<aws.events.event.json>`),
  delivered asynchronously to the registered handler, with Lambda's two retries for async
  invocations; what still fails is appended to `<data>/dead-letters.jsonl`;
- rule targets that are API destinations (notification channels): an HTTP request to the endpoint,
  as EventBridge makes it, with its retries and dead letters (load_manager_local.api_destinations);
- a record of every event put on any local bus, one JSON object per line in `<data>/events.jsonl`
  (what `load-manager events tail` reads), with the rules it matched; an event a rule forwarded to
  another bus (moto delivers those itself) is recorded on each bus, the forwarded one just after
  the put that caused it, with `forwardedFrom`;
- Scheduler's clock: `load_manager_local.scheduler` fires due schedules (cronsim).

The buses, schedule groups and rules are the template's as SAM translates it
(`load_manager_local.local_stack`: the stack's bus, its group, the rule forwarding
`ForwardedEventSources` from the default bus, and the sweeper's scheduled rule, which matches no
event: the sweeper's clock is sweeper_clock.py). The matching itself is moto's EventBridge pattern
engine. moto keeps everything in memory, so at start the rules and schedules of stored triggers and
schedules are written again (their records live in SQLite).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import boto3

from load_manager_local.api import ApiResponse
from load_manager_local.api_destinations import ApiDestinations, Delivery, is_api_destination
from load_manager_local.background import BackgroundDeliveries

if TYPE_CHECKING:
    from load_manager_local.local_stack import LocalStack

log = logging.getLogger("load_manager_local.aws")

EVENTS_FILE = "events.jsonl"
DEAD_LETTERS_FILE = "dead-letters.jsonl"
ASYNC_RETRIES = 2  # Lambda's retries of a failed asynchronous invocation
RETRY_DELAYS_S = (0.5, 1.0)  # Lambda waits 1 and 2 minutes; locally nobody wants to
SERVICES = {"events", "scheduler"}  # what /aws answers
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
# The template's names for the local stack (see local_stack.py), read on first use: every CLI
# command imports this module, and reading the template (and moto) costs a few tenths of a second.
_STACK_NAMES = {"BUS_NAME": "event_bus_name", "SCHEDULE_GROUP": "schedule_group", "TRIGGERS_FUNCTION": "triggers_function"}
if TYPE_CHECKING:
    BUS_NAME: str
    SCHEDULE_GROUP: str
    TRIGGERS_FUNCTION: str
else:

    def __getattr__(name: str) -> str:
        if name not in _STACK_NAMES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from load_manager_local.local_stack import local_stack

        return getattr(local_stack(), _STACK_NAMES[name])


# While a rule hands an event to another bus: (moto's rule, the event); and the records of the
# events put meanwhile, written after the put that caused them.
Forwarding = tuple[Any, dict[str, Any]]
_FORWARDING: ContextVar[Forwarding | None] = ContextVar("local_aws_forwarding", default=None)
_NESTED_RECORDS: ContextVar[list[dict[str, Any]] | None] = ContextVar("local_aws_nested_records", default=None)


def iso(value: Any) -> str:
    """moto keeps an event's time as epoch seconds; AWS sends ISO 8601 in UTC."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def aws_event(moto_event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge hands it to a target."""
    event = {k: copy.deepcopy(v) for k, v in moto_event.items() if k != "ingestion-time"}
    event["time"] = iso(event.get("time") or time.time())
    return event


def render_input(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str) -> Any:
    """What EventBridge sends a target: the event, `Input`, `InputPath` or an `InputTransformer`."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _first(target["InputPath"], event)
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    values = {name: _first(path, event) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values |= {"aws.events.event.json": event, "aws.events.event": event, "aws.events.rule-name": rule_name, "aws.events.rule-arn": rule_arn}

    def substitute(match: re.Match) -> str:
        if match.group(1) not in values:
            return match.group(0)
        value = values[match.group(1)]
        return value if isinstance(value, str) else json.dumps(value)

    return json.loads(_PLACEHOLDER.sub(substitute, transformer["InputTemplate"]))


def _first(path: str, event: dict[str, Any]) -> Any:
    from jsonpath_ng.ext import parse

    matches = parse(path).find(event)
    return matches[0].value if matches else None


class JsonLines:
    """Appends one JSON object per line, from any thread."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)


class Deliveries(BackgroundDeliveries):
    """Asynchronous invocations of registered Lambda handlers, with Lambda's retries."""

    thread_name = "local-aws-deliveries"

    def __init__(self, registry: dict[str, Callable], dead_letters: JsonLines):
        self.registry, self.dead_letters = registry, dead_letters
        super().__init__()

    def submit(self, function_name: str, payload: Any, origin: str) -> None:
        self._submit((function_name, payload, origin))

    def handle(self, item: tuple[str, Any, str]) -> None:
        self._deliver(*item)

    def describe(self, item: tuple[str, Any, str]) -> str:
        return item[0]

    def _deliver(self, function_name: str, payload: Any, origin: str) -> None:
        from load_manager_local.stepfunctions import LambdaContext, function_arn

        handler = self.registry.get(function_name)
        if handler is None:
            log.warning("%s targets %s, which is not a local function; dropped", origin, function_name)
            return
        for attempt in range(ASYNC_RETRIES + 1):
            context = LambdaContext(function_name=function_name, invoked_function_arn=function_arn(function_name))
            try:
                handler(copy.deepcopy(payload), context)
                return
            except Exception as exc:  # noqa: BLE001 - a function error, as Lambda sees it
                log.warning("%s -> %s failed (attempt %d): %s", origin, function_name, attempt + 1, exc)
                if attempt < ASYNC_RETRIES:
                    time.sleep(RETRY_DELAYS_S[attempt])
                else:
                    letter = {"at": iso(time.time()), "function": function_name, "origin": origin, "error": repr(exc), "payload": payload}
                    self.dead_letters.append(letter)


class LocalAws:
    """The template's buses, schedule groups and rules, the rules' Lambda targets, the event record,
    and Scheduler's clock. `stack` defaults to the project template's (local_stack.local_stack)."""

    def __init__(self, registry: dict[str, Callable], data_dir: Path, region: str, *, tick_seconds: float = 1.0, stack: LocalStack | None = None):
        self.registry, self.data_dir, self.region = registry, data_dir, region
        self.events = JsonLines(data_dir / EVENTS_FILE)
        self.deliveries = Deliveries(registry, JsonLines(data_dir / DEAD_LETTERS_FILE))
        self.api_destinations = ApiDestinations(self.deliveries.dead_letters, render_input, _first)  # notification channels' endpoints
        self.tick_seconds = tick_seconds
        self.stack = stack
        self.scheduler: Any = None
        self._patches = ExitStack()

    def start(self) -> LocalAws:
        from load_manager_local.local_stack import local_stack
        from load_manager_local.scheduler import LocalScheduler

        self._patch_moto()
        self.stack = self.stack or local_stack(self.region)
        events, scheduler = boto3.client("events", region_name=self.region), boto3.client("scheduler", region_name=self.region)
        for bus in self.stack.event_buses:
            events.create_event_bus(Name=bus)
        for group in self.stack.schedule_groups:
            scheduler.create_schedule_group(Name=group)
        for rule in self.stack.rules:
            events.put_rule(**rule.put_rule)
            if rule.targets:
                events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=rule.targets)
        self.scheduler = LocalScheduler(self.deliveries.submit, self.region)
        if self.tick_seconds > 0:
            self.scheduler.run_in_background(self.tick_seconds)
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.deliveries.drain(timeout=60)
        self.deliveries.stop()
        self.api_destinations.stop()
        self._patches.close()

    def drain(self, timeout: float = 30.0) -> None:
        self.deliveries.drain(timeout)
        self.api_destinations.drain(timeout)

    def read_events(self) -> list[dict[str, Any]]:
        path = self.data_dir / EVENTS_FILE
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    # ---- moto seams -----------------------------------------------------------------------------

    def _patch_moto(self) -> None:
        from moto.events.models import EventsBackend, Rule

        original_send = Rule.__dict__["send_to_targets"]
        original_put = EventsBackend.__dict__["put_events"]
        self._patches.enter_context(patch.object(Rule, "send_to_targets", self._send_to_targets(original_send)))
        self._patches.enter_context(patch.object(EventsBackend, "put_events", self._put_events(original_put)))

    def _send_to_targets(self, original: Callable) -> Callable:
        from moto.events.models import events_backends

        deliveries, api_destinations = self.deliveries, self.api_destinations

        def send_to_targets(rule, event, transform_input: bool = True) -> None:
            if rule.state != "ENABLED":  # a disabled rule matches nothing (moto's own delivery ignores the state)
                return
            if _scheduled(rule):
                return
            try:
                matched = rule.event_pattern.matches_event(event)
            except Exception:  # noqa: BLE001 - moto checks a pattern's shape, EventBridge its filters too
                log.warning("rule %s has a pattern moto cannot evaluate; treated as no match", rule.name)
                return
            if not matched:
                return
            lambdas = [t for t in rule.targets if ":lambda:" in t["Arn"] and ":function:" in t["Arn"]]
            for target in lambdas:
                payload = render_input(target, aws_event(event), rule.name, rule.arn)
                deliveries.submit(target["Arn"].split(":function:")[1].split(":")[0], payload, f"rule {rule.name}")
            for target in filter(is_api_destination, rule.targets):  # moto's own call sends no body: delivered here
                api_destinations.submit(Delivery(events_backends[rule.account_id][rule.region_name], rule.name, rule.arn, target, aws_event(event)))
            others = [t for t in rule.targets if t not in lambdas and not is_api_destination(t)]
            if others:  # other buses among them: moto puts the event there itself
                clone = copy.copy(rule)
                clone.targets = others
                token = _FORWARDING.set((rule, event))
                try:
                    original(clone, event, transform_input)
                finally:
                    _FORWARDING.reset(token)

        return send_to_targets

    def _put_events(self, original: Callable) -> Callable:
        record, log_events = self._record, self.events

        def put_events(backend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            forwarding = _FORWARDING.get()
            # One time for moto's event and for our record of it: two clock reads may fall in two seconds.
            now = time.time()
            events = [e if e.get("Time") else {**e, "Time": now} for e in events]
            if forwarding is not None:  # moto forwards source, detail-type and detail; EventBridge keeps time and resources too
                events = [{**e, "Time": forwarding[1]["time"], "Resources": forwarding[1].get("resources", [])} for e in events]
            outer = _NESTED_RECORDS.get()
            nested: list[dict[str, Any]] = []
            token = _NESTED_RECORDS.set(nested)
            try:
                entries = original(backend, events)
            finally:
                _NESTED_RECORDS.reset(token)
            records = [record(backend, e, entry["EventId"], forwarding) for e, entry in zip(events, entries, strict=False) if "EventId" in entry]
            if outer is not None:
                outer.extend(records + nested)
            else:
                for line in records + nested:
                    log_events.append(line)
            return entries

        return put_events

    def _record(self, backend, event: dict[str, Any], event_id: str, forwarding: Forwarding | None) -> dict[str, Any]:
        bus_name = backend._normalize_event_bus_arn(event.get("EventBusName"))
        try:
            detail = json.loads(event["Detail"])
        except (TypeError, ValueError):
            detail = event.get("Detail")
        message = {
            "version": "0", "id": event_id, "detail-type": event["DetailType"], "source": event["Source"],
            "account": backend.account_id, "time": iso(event.get("Time") or time.time()), "region": backend.region_name,
            "resources": event.get("Resources", []), "detail": detail,
        }  # fmt: skip
        try:
            rules = backend.describe_event_bus(bus_name).rules.values()
            matched = sorted(rule.name for rule in rules if _matches(rule, message))
        except Exception:  # noqa: BLE001 - the record is a convenience; the put already succeeded
            matched = []
        record = {"eventBusName": bus_name, **message, "matchedRules": matched}
        if forwarding is not None:
            rule, source = forwarding
            record["forwardedFrom"] = {"eventBusName": rule.event_bus_name, "id": source["id"], "rule": rule.name}
        return record


def _matches(rule, message: dict[str, Any]) -> bool:
    try:
        return rule.state == "ENABLED" and not _scheduled(rule) and bool(rule.event_pattern.matches_event(message))
    except Exception:  # noqa: BLE001 - see send_to_targets
        return False


def _scheduled(rule) -> bool:
    """A scheduled rule without a pattern (SAM's Schedule events: the sweeper's) matches no event;
    moto's empty pattern would match them all. EventBridge runs it on its clock; here sweeper_clock.py does."""
    return bool(rule.scheduled_expression) and rule.event_pattern.dump() is None


# ---- serve's /aws ----------------------------------------------------------------------------------

_SCOPE = re.compile(r"(Credential=[^/,\s]+/\d{8}/)([a-z0-9-]+)(/([a-z0-9-]+)/aws4_request)")


class AwsGateway:
    """The EventBridge and Scheduler APIs over HTTP, under `/aws`, answered by moto's own WSGI app.
    Any region the client signs for is this process's region (one local bus, whatever the profile)."""

    def __init__(self, region: str):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.region = region
        self.app = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()

    def respond(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None) -> ApiResponse:
        from werkzeug.test import EnvironBuilder
        from werkzeug.wrappers import Response

        headers = dict(headers)
        auth_name = next((k for k in headers if k.lower() == "authorization"), None)
        scope = _SCOPE.search(headers.get(auth_name, "")) if auth_name else None
        if scope is None or scope.group(4) not in SERVICES:
            message = "only signed EventBridge (events) and EventBridge Scheduler (scheduler) requests are answered under /aws"
            return ApiResponse(400, {"content-type": "application/json"}, json.dumps({"__type": "UnsupportedService", "message": message}).encode())
        assert auth_name is not None
        headers[auth_name] = _SCOPE.sub(lambda m: f"{m.group(1)}{self.region}{m.group(3)}", headers[auth_name])
        builder = EnvironBuilder(path=path[len("/aws") :] or "/", method=method, headers=list(headers.items()), data=body or b"", query_string=query)
        environ = builder.get_environ()
        with self._lock:
            answer = Response.from_app(self.app, environ)
        out = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in ("content-length", "connection")}
        return ApiResponse(answer.status_code, out, answer.get_data())
