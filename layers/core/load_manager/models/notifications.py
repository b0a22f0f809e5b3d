"""Notification channels: where a finished run is announced (a signed webhook, a Slack or a Microsoft
Teams incoming webhook), for one test or for a scope (account, org, project, env, like clusters).

The endpoint URL, the webhook's signing secret and an optional auth header's value are credentials:
they are accepted on create and PATCH and never answered (the channel shows the endpoint's host,
and whether a secret is set).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, Name, RequestModel, ScopeId

ChannelKind = Literal["webhook", "slack", "teams"]
ChannelFilter = Literal["all", "failed", "statusChange"]
# What a run is announced as: its result once Finished, or how it ended otherwise.
Verdict = Literal["Passed", "Failed", "NotEvaluated", "Error", "Cancelled"]
# EventBridge API destinations call HTTPS endpoints; `serve` also accepts http://127.0.0.1 (checked in the use case).
EndpointUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2048)]
SigningSecret = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{16,256}$")]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")]
HeaderValue = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,512}$")]
TestId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]

FILTER_HELP = (
    "all: every run that ends; failed: runs whose verdict is Failed (criteria) or Error (the run itself failed); "
    "statusChange: runs whose verdict differs from the verdict of the test's previous ended run (Cancelled runs are "
    "neither announced nor compared; a test's first verdict counts as a change)"
)


class ChannelAuthHeader(RequestModel):
    """A header EventBridge's connection adds to every call (e.g. `Authorization: Bearer …`); its value is write-only."""

    name: HeaderName
    value: HeaderValue


class CreateChannelRequest(RequestModel):
    """A channel for one test (`testId`) or for a scope: the account when org/project/env are
    absent, each level narrowing it. Every channel that matches a run is notified."""

    name: Name
    kind: ChannelKind
    url: EndpointUrl = Field(description="The endpoint (Slack/Teams incoming webhook URL, or yours): write-only")
    signing_secret: SigningSecret | None = Field(
        default=None, description="webhook only, required: the HMAC-SHA256 key of the X-LoadManager-Signature header (write-only)"
    )
    auth_header: ChannelAuthHeader | None = Field(default=None, description="webhook only: a header sent with every call (value write-only)")
    filter: ChannelFilter = Field(default="failed", description=FILTER_HELP)
    enabled: bool = True
    test_id: TestId | None = None
    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None


class UpdateChannelRequest(RequestModel):
    """PATCH: only the fields sent change. The kind and the scope are fixed (create another channel)."""

    name: Name | None = None
    url: EndpointUrl | None = None
    signing_secret: SigningSecret | None = Field(default=None, description="A new signing secret (webhook); takes effect for the next message")
    filter: ChannelFilter | None = None
    enabled: bool | None = None


class NotificationChannel(ApiModel):
    id: str
    account_id: str
    name: str
    kind: ChannelKind
    filter: ChannelFilter
    enabled: bool
    test_id: str | None = None
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    endpoint_host: str = Field(description="The endpoint's host (the URL itself is never answered)")
    signing_secret_set: bool = False
    auth_header_name: str | None = None
    rule_name: str = Field(description="The channel's EventBridge rule on the stack's bus (its connection and API destination share the name)")
    created_at: int
    created_by: str
    updated_at: int | None = None
    updated_by: str | None = None


class ChannelList(ApiModel):
    items: list[NotificationChannel]
