"""EventBridge API destinations for notification channels: per channel, a connection (the credential
EventBridge adds to every call), an API destination (the endpoint) and a rule on the stack's bus,
all named `<prefix>n-<channelId>` (`channel_resource_name`).

The rule matches the channel's `NotificationRequested` events (source `load-manager`, its channelId
and tenant) and targets the API destination: the body is the event's `detail.payload` (InputPath), a
webhook's signature and timestamp go in headers taken from the event (`$.detail.signature`, …), and
EventBridge retries (RetryPolicy) then dead-letters to the notifications queue (DeadLetterConfig).

Header values from the event: EventBridge's user guide lists HttpParameters' HeaderParameters as the
one field without dynamic JSON paths, while AWS is reported to resolve them all the same
(localstack#12062, ministack#1775, both checked against AWS). Query string parameters are documented
as dynamic, so the same signature and timestamp also go there (`lm_signature`, `lm_timestamp`):
a receiver reads the header, else the query string (docs: how-to/notifications.md).

Locally the same calls reach moto's EventBridge in `serve`, which delivers them as EventBridge does
(load_manager_local.api_destinations).
"""

from __future__ import annotations

from typing import Any, Protocol

from load_manager.adapters import aws_clients
from load_manager.adapters.channel_credentials import ChannelCredentials
from load_manager.adapters.eventbridge import delete_rule, error_code, put_rule
from load_manager.errors import AutomationLimitError, AutomationUnavailableError, UnprocessableError
from load_manager.models.notifications import NotificationChannel
from load_manager.observability import logger
from load_manager.settings import get_settings

NOTIFICATION_REQUESTED = "NotificationRequested"
TARGET_ID = "load-manager-notification"
CHANNEL_HEADER = "X-LoadManager-Channel"  # a connection needs an authorization: without the channel's own, this (not a secret)
# EventBridge retries with back-off for up to 15 minutes, then dead-letters: a receiver accepts a
# signature timestamp that old (plus clock skew), and refuses anything older as a replay.
RETRY_POLICY = {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 900}
RATE_LIMIT_PER_SECOND = 1  # Slack and Teams take about one message a second per webhook
SIGNED_HEADERS = {
    "X-LoadManager-Signature": "$.detail.signature",
    "X-LoadManager-Timestamp": "$.detail.timestamp",
    "X-LoadManager-Event-Id": "$.detail.eventId",
}
SIGNED_QUERY = {"lm_signature": "$.detail.signature", "lm_timestamp": "$.detail.timestamp"}


def channel_resource_name(channel_id: str) -> str:
    """The channel's rule, connection and API destination (EventBridge allows 64 characters)."""
    return f"{get_settings().automation.name_prefix}n-{channel_id}"


def rule_pattern(channel: NotificationChannel) -> dict[str, Any]:
    return {
        "source": ["load-manager"], "detail-type": [NOTIFICATION_REQUESTED],
        "detail": {"channelId": [channel.id], "accountId": [channel.account_id]},
    }  # fmt: skip


def target(channel: NotificationChannel, destination_arn: str, role_arn: str, dead_letter_arn: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Id": TARGET_ID, "Arn": destination_arn, "RoleArn": role_arn, "InputPath": "$.detail.payload", "RetryPolicy": RETRY_POLICY,
    }  # fmt: skip
    if channel.kind == "webhook":
        found["HttpParameters"] = {"HeaderParameters": SIGNED_HEADERS, "QueryStringParameters": SIGNED_QUERY}
    if dead_letter_arn:
        found["DeadLetterConfig"] = {"Arn": dead_letter_arn}
    return found


def api_key(channel: NotificationChannel, credentials: ChannelCredentials) -> dict[str, Any]:
    name, value = (channel.auth_header_name, credentials.auth_value) if channel.auth_header_name else (CHANNEL_HEADER, channel.id)
    return {"ApiKeyAuthParameters": {"ApiKeyName": name, "ApiKeyValue": value}}


class ChannelTargets(Protocol):
    def put(self, channel: NotificationChannel, credentials: ChannelCredentials) -> None:
        """Create or update the channel's connection, API destination, rule and target. Idempotent."""
        ...

    def delete(self, channel: NotificationChannel) -> None:
        """Remove them all; missing ones are not an error."""
        ...


class EventBridgeChannelTargets:
    def __init__(self, bus_name: str, role_arn: str, dead_letter_arn: str = "", client=None):
        if not bus_name or not role_arn:
            raise AutomationUnavailableError(
                "no event bus or notification role is configured (EVENT_BUS_NAME, NOTIFICATION_ROLE_ARN): notifications are off"
            )
        self.bus_name, self.role_arn, self.dead_letter_arn = bus_name, role_arn, dead_letter_arn
        self.client = client or aws_clients.client("events")

    def put(self, channel: NotificationChannel, credentials: ChannelCredentials) -> None:
        name = channel.rule_name
        try:
            connection_arn = self._connection(name, api_key(channel, credentials))
            destination_arn = self._destination(name, connection_arn, credentials.url)
            found = target(channel, destination_arn, self.role_arn, self.dead_letter_arn)
            description = f"Load Manager notification channel {channel.name!r}"
            failed = put_rule(self.client, self.bus_name, name, rule_pattern(channel), found, description, channel.enabled)
        except Exception as exc:
            raise _error(exc) from exc
        if failed:
            raise AutomationUnavailableError(f"EventBridge refused the channel's target: {failed}")

    def _connection(self, name: str, auth: dict[str, Any]) -> str:
        try:
            arn = self.client.describe_connection(Name=name)["ConnectionArn"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return self.client.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth)["ConnectionArn"]
        self.client.update_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth)
        return arn

    def _destination(self, name: str, connection_arn: str, url: str) -> str:
        settings = {
            "ConnectionArn": connection_arn, "InvocationEndpoint": url, "HttpMethod": "POST", "InvocationRateLimitPerSecond": RATE_LIMIT_PER_SECOND,
        }  # fmt: skip
        try:
            arn = self.client.describe_api_destination(Name=name)["ApiDestinationArn"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return self.client.create_api_destination(Name=name, **settings)["ApiDestinationArn"]
        self.client.update_api_destination(Name=name, **settings)
        return arn

    def delete(self, channel: NotificationChannel) -> None:
        name = channel.rule_name
        steps = (
            lambda: delete_rule(self.client, self.bus_name, name, TARGET_ID),
            lambda: self.client.delete_api_destination(Name=name),
            lambda: self.client.delete_connection(Name=name),
        )
        for step in steps:
            try:
                step()
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise _error(exc) from exc


def _error(exc: Exception) -> Exception:
    code = error_code(exc)
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", exc))
    if code == "ValidationException":  # the endpoint EventBridge would not call (its URL rules are stricter than ours)
        return UnprocessableError(f"EventBridge refused the channel: {message}", code="InvalidChannelUrl")
    if code == "LimitExceededException":
        return AutomationLimitError(f"EventBridge has no room for another channel ({message}): delete unused channels or triggers")
    logger.exception("EventBridge notification call failed")
    return AutomationUnavailableError(f"EventBridge is unavailable ({code}); retry later")


def default_targets() -> ChannelTargets:
    automation = get_settings().automation
    return EventBridgeChannelTargets(automation.event_bus_name, automation.notification_role_arn, automation.notification_dead_letter_arn)
