"""EventBridge: the rules that match triggers' patterns on the stack's bus, and the events Load
Manager emits there (`RunStarted`, `RunFinished`, source `load-manager`).

One rule per trigger, named `<prefix><triggerId>`, with one target: the triggers function, called
with `{"loadManagerTrigger": {...}, "event": <the matched event>}` (an input transformer), so the
function knows which trigger matched without matching anything itself. EventBridge allows 300
rules per bus by default: PutRule's LimitExceededException becomes a 409 `AutomationLimitReached`
and nothing is written (see the README on raising the quota).

Locally the same code talks to moto's EventBridge in the serve process (load_manager_local.aws).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from load_manager.adapters import aws_clients
from load_manager.errors import AutomationLimitError, AutomationUnavailableError, UnprocessableError
from load_manager.observability import count, logger
from load_manager.settings import get_settings

SOURCE = "load-manager"
TARGET_ID = "load-manager-triggers"
# EventBridge retries a failed delivery to Lambda with back-off; then the dead-letter queue.
RULE_RETRY_POLICY = {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}


class EventRules(Protocol):
    def put(self, name: str, pattern: dict[str, Any], target_input: dict[str, Any], description: str, enabled: bool = True) -> None:
        """Create (or replace) the rule and its one target, enabled or not. Idempotent."""
        ...

    def delete(self, name: str) -> None:
        """Remove the rule's target and the rule; a missing rule is not an error."""
        ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None: ...


def rule_name(trigger_id: str) -> str:
    """The EventBridge rule of a trigger, on the stack's bus."""
    return f"{get_settings().automation.name_prefix}{trigger_id}"


# Publishing sits in a run's lifecycle: short timeouts and one retry, never a long block.
PUBLISH_CONFIG: dict[str, Any] = {"connect_timeout": 2, "read_timeout": 3, "retries": {"max_attempts": 2, "mode": "standard"}}


def error_code(exc: Exception) -> str:
    """An AWS error's code (botocore's ClientError), else the exception's type name."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__))


def put_rule(client: Any, bus_name: str, name: str, pattern: dict[str, Any], target: dict[str, Any], description: str, enabled: bool) -> list:
    """Create (or replace) a rule on the bus and its one target; the target entries EventBridge refused."""
    client.put_rule(
        Name=name, EventBusName=bus_name, EventPattern=json.dumps(pattern), State="ENABLED" if enabled else "DISABLED",
        Description=description[:512],
    )  # fmt: skip
    answer = client.put_targets(Rule=name, EventBusName=bus_name, Targets=[target])
    return list(answer.get("FailedEntries") or [{}]) if answer.get("FailedEntryCount") else []


def delete_rule(client: Any, bus_name: str, name: str, target_id: str) -> None:
    """Remove a rule's target and the rule; missing ones are not an error (any other is raised)."""
    for step in (
        lambda: client.remove_targets(Rule=name, EventBusName=bus_name, Ids=[target_id]),
        lambda: client.delete_rule(Name=name, EventBusName=bus_name),
    ):
        try:
            step()
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise


def transformer_template(reference: dict[str, str]) -> str:
    """The rule target's InputTemplate: our reference, then the whole matched event."""
    return '{"loadManagerTrigger": ' + json.dumps(reference, sort_keys=True) + ', "event": <aws.events.event.json>}'


class EventBridgeRules:
    def __init__(self, bus_name: str, function_arn: str, dead_letter_arn: str = "", client=None):
        if not bus_name or not function_arn:
            raise AutomationUnavailableError("no event bus is configured (EVENT_BUS_NAME, TRIGGERS_FUNCTION_ARN): triggers are off")
        self.bus_name, self.function_arn, self.dead_letter_arn = bus_name, function_arn, dead_letter_arn
        self.client = client or aws_clients.client("events")

    def put(self, name: str, pattern: dict[str, Any], target_input: dict[str, Any], description: str, enabled: bool = True) -> None:
        target: dict[str, Any] = {
            "Id": TARGET_ID,
            "Arn": self.function_arn,
            "InputTransformer": {"InputPathsMap": {}, "InputTemplate": transformer_template(target_input)},
            "RetryPolicy": RULE_RETRY_POLICY,
        }
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        try:
            failed = put_rule(self.client, self.bus_name, name, pattern, target, description, enabled)
        except Exception as exc:
            raise _rule_error(exc) from exc
        if failed:
            self.delete(name)
            raise AutomationUnavailableError(f"EventBridge refused the rule's target: {failed}")

    def delete(self, name: str) -> None:
        try:
            delete_rule(self.client, self.bus_name, name, TARGET_ID)
        except Exception as exc:
            raise _rule_error(exc) from exc


def _rule_error(exc: Exception) -> Exception:
    code = error_code(exc)
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", exc))
    if code == "InvalidEventPatternException":
        return UnprocessableError(f"EventBridge rejected the event pattern: {message}", code="InvalidEventPattern")
    if code == "LimitExceededException":
        return AutomationLimitError(
            f"the event bus has no room for another rule ({message}); delete unused triggers, or raise the "
            "'Maximum number of rules per event bus' quota",
        )
    logger.exception("EventBridge rule call failed")
    return AutomationUnavailableError(f"EventBridge is unavailable ({code}); nothing was changed, retry later")


class EventBridgePublisher:
    def __init__(self, bus_name: str, client=None):
        self.bus_name = bus_name
        self._client = client

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        client = self._client or aws_clients.client("events", **PUBLISH_CONFIG)
        entry = {
            "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
            "EventBusName": self.bus_name, "Resources": resources,
        }  # fmt: skip
        answer = client.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents refused the event: {answer.get('Entries')}")


class BusNotConfiguredError(RuntimeError):
    """This function has no bus (EVENT_BUS_NAME): its events wait in the outbox for one that has."""


class NullPublisher:
    """No bus configured here: nothing is published, so nothing is marked sent. A function without
    the bus (RunsFunction failing a run it could not start) leaves the event in the run's outbox,
    and the sweeper, which has the bus, sends it (said once in the log)."""

    warned = False

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        if not NullPublisher.warned:
            NullPublisher.warned = True
            logger.warning("EVENT_BUS_NAME is not set here: RunStarted/RunFinished wait in the outbox for the sweeper")
        raise BusNotConfiguredError(detail_type)


_publisher: EventPublisher | None = None


def get_publisher() -> EventPublisher:
    bus = get_settings().automation.event_bus_name
    return _publisher or (EventBridgePublisher(bus) if bus else NullPublisher())


def set_publisher(publisher: EventPublisher | None) -> None:
    """Install a publisher explicitly (tests); None goes back to the settings' bus."""
    global _publisher
    _publisher = publisher


def default_rules() -> EventRules:
    automation = get_settings().automation
    return EventBridgeRules(automation.event_bus_name, automation.triggers_function_arn, automation.dead_letter_arn)


def publish_safely(detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> bool:
    """Publish, but never let it fail the caller (a run's lifecycle): log and count instead."""
    try:
        get_publisher().publish(detail_type, detail, resources or [])
    except BusNotConfiguredError:
        return False  # not a failure: another function sends it (NullPublisher)
    except Exception:
        logger.exception("could not publish an event", extra={"detailType": detail_type, "runId": detail.get("runId")})
        count("EventsPublishFailed")
        return False
    count("EventsPublished")
    return True
