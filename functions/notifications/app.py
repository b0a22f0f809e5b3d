"""Notification channels (HTTP API): where a finished run is announced — a signed webhook, a Slack or a
Microsoft Teams incoming webhook — for one test or a scope. Each channel is an EventBridge
connection, API destination and rule (usecases/notification_channels.py); the messages themselves
are published by the run's lifecycle (lifecycle/notifications.py) and delivered by EventBridge.

Besides API Gateway, `{"action": "sync"}` writes every channel's EventBridge resources again.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from load_manager.adapters.notification_targets import default_targets
from load_manager.http import BODY_ERRORS, COMMON_ERRORS, api_function, current_caller, json_response, responses
from load_manager.models.notifications import ChannelList, CreateChannelRequest, NotificationChannel, UpdateChannelRequest
from load_manager.observability import logger
from load_manager.store import get_stores
from load_manager.usecases import notification_channels as channels

router = APIGatewayHttpRouter()
CHANNELS = "/v1/notification-channels"


@router.post(
    CHANNELS,
    summary="Announce finished runs of a test or a scope on a webhook, Slack or Microsoft Teams",
    description="The URL, signing secret and auth header value are write-only. A test's channel: any caller who sees the test; "
    "an account's, org's, project's or env's: admins. See the notifications how-to for the messages and the webhook's signature.",
    tags=["notifications"],
    responses=responses(NotificationChannel, *BODY_ERRORS, 404, 409, 503, status=201, description="Channel and its EventBridge resources created"),
)
def create_channel(body: CreateChannelRequest) -> Response[NotificationChannel]:
    channel = channels.create(get_stores(), default_targets, current_caller(app), body)
    return json_response(channel, 201, headers={"Location": f"{CHANNELS}/{channel.id}"})


@router.get(CHANNELS, summary="Your tenant's channels (a test's: testId)", tags=["notifications"], responses=responses(ChannelList, *COMMON_ERRORS))
def list_channels(testId: Annotated[str | None, Query(max_length=64)] = None) -> ChannelList:  # noqa: N803
    return channels.list_channels(get_stores(), current_caller(app), testId)


@router.get(
    f"{CHANNELS}/<channelId>", summary="One channel", tags=["notifications"], responses=responses(NotificationChannel, *COMMON_ERRORS, 404)
)
def get_channel(channelId: str) -> NotificationChannel:  # noqa: N803
    return channels.get(get_stores(), current_caller(app), channelId)


@router.patch(
    f"{CHANNELS}/<channelId>",
    summary="Change a channel (only the fields sent); its EventBridge resources are written again",
    tags=["notifications"],
    responses=responses(NotificationChannel, *BODY_ERRORS, 404, 503),
)
def patch_channel(channelId: str, body: UpdateChannelRequest) -> NotificationChannel:  # noqa: N803
    return channels.update(get_stores(), default_targets, current_caller(app), channelId, body)


@router.delete(
    f"{CHANNELS}/<channelId>",
    summary="Delete a channel and its EventBridge resources",
    tags=["notifications"],
    responses=responses(None, *COMMON_ERRORS, 404, 503, status=204, description="Deleted"),
)
def delete_channel(channelId: str) -> Response[None]:  # noqa: N803
    channels.delete(get_stores(), default_targets, current_caller(app), channelId)
    return Response(status_code=204)


app, api_handler = api_function(router)


@logger.inject_lambda_context
def _sync(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"channels": channels.resync(get_stores(), default_targets)}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "sync":
        return _sync(event, context)
    return api_handler(event, context)
