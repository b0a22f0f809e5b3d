"""Notification channels: create, read, change and delete them, with their EventBridge resources.

A channel belongs to one test (any caller who sees the test manages it) or to a scope of the tenant
(account, org, project, env: its admins manage those, as clusters). Its credentials (URL, signing
secret, auth header value) go to the credential store and to EventBridge, never to the channel's
record, and are never answered.

Creating: validate, take a quota hold (concurrent creations never pass the per-tenant cap), write
the credentials, the EventBridge resources, then the record; a failure undoes what was done.
Changing: the record's fields and the credentials sent, then the EventBridge resources again from the
record as stored. Deleting removes the EventBridge resources first (a failure leaves the record to
retry with), then the credentials and the record. `resync` writes every channel's resources again
(the local runtime's start: moto forgets them; `{"action": "sync"}` in AWS).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from load_manager.access import ADMIN, require_role
from load_manager.adapters.channel_credentials import ChannelCredentials, credential_store
from load_manager.adapters.notification_targets import ChannelTargets, channel_resource_name
from load_manager.errors import AutomationLimitError, BadRequestError, ChannelNotFoundError, UnprocessableError
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.models.notifications import ChannelList, CreateChannelRequest, NotificationChannel, UpdateChannelRequest
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Hold, Stores
from load_manager.usecases import audit
from load_manager.usecases.quotas import ORPHAN_GRACE_MS
from load_manager.usecases.reads import get_test
from load_manager.usecases.scopes import check_nesting

TargetsFactory = Callable[[], ChannelTargets]
POOL = "notification-channels"
SETTLE_ATTEMPTS = 5  # EventBridge writes a PATCH makes at most while other PATCHes of the channel keep landing
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _check_url(url: str) -> str:
    """The endpoint's host. EventBridge calls HTTPS endpoints only; outside AWS `serve` may call http on this machine."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a malformed host or port raises here
    except ValueError as exc:
        raise UnprocessableError(f"the endpoint is not a URL: {exc}", code="InvalidChannelUrl") from None
    if host and (parts.scheme == "https" or parts.scheme == "http" and not get_settings().in_lambda and host in LOOPBACK_HOSTS):
        return host
    raise UnprocessableError("the endpoint must be an https:// URL (http only to 127.0.0.1 outside AWS)", code="InvalidChannelUrl")


def _check_kind(request: CreateChannelRequest) -> None:
    if request.kind == "webhook" and not request.signing_secret:
        raise UnprocessableError("a webhook channel needs a signingSecret (16 to 256 printable characters)", code="SigningSecretRequired")
    if request.kind != "webhook" and (request.signing_secret or request.auth_header):
        message = f"a {request.kind} channel takes no signingSecret nor authHeader (its URL is its credential)"
        raise UnprocessableError(message, code="UnexpectedChannelField")


def _check_access(caller: Caller, test_id: str | None) -> None:
    """A test's channels are managed by its editors (a deleted test's too, to delete them: the route's
    line); an account's, org's, project's or env's by its admins."""
    if test_id is None:
        require_role(caller.role, ADMIN, "a channel of an account, org, project or env")


def create(stores: Stores, targets: TargetsFactory, caller: Caller, request: CreateChannelRequest) -> NotificationChannel:
    check_nesting(request.org_id, request.project_id, request.env_id, request.test_id)
    _check_kind(request)
    host = _check_url(request.url)
    _check_access(caller, request.test_id)
    if request.test_id is not None:
        get_test(stores, caller, request.test_id)  # 404 for a test the tenant does not have
    channel_id = new_id()
    channel = NotificationChannel(
        id=channel_id, account_id=caller.account_id, name=request.name, kind=request.kind, filter=request.filter, enabled=request.enabled,
        test_id=request.test_id, org_id=request.org_id, project_id=request.project_id, env_id=request.env_id,
        endpoint_host=host, signing_secret_set=bool(request.signing_secret),
        auth_header_name=request.auth_header.name if request.auth_header else None, rule_name=channel_resource_name(channel_id),
        created_at=now_ms(), created_by=caller.actor,
    )  # fmt: skip
    credentials = ChannelCredentials(request.url, request.signing_secret, request.auth_header.value if request.auth_header else None)
    bus = targets()  # 503 without a bus, before anything is written
    _take_hold(stores, channel)
    secrets = credential_store()
    try:
        secrets.put(channel.account_id, channel.id, credentials)
        bus.put(channel, credentials)
        record = audit.change(caller, "notificationChannel.create", channel.id, load_test_id=channel.test_id, after=channel, at=channel.created_at)
        stores.notification_channels.insert(channel, audit=record)
    except BaseException:
        _undo(stores, bus, channel)
        raise
    count("NotificationChannelsCreated")
    return channel


def _undo(stores: Stores, bus: ChannelTargets, channel: NotificationChannel) -> None:
    try:
        bus.delete(channel)
        credential_store().delete(channel.account_id, channel.id)
    except Exception:  # the original failure is what the caller needs; what is left is logged
        logger.exception("could not undo a channel that failed to be created", extra={"channelId": channel.id})
    stores.holds.release(channel.account_id, POOL, channel.id)


def _take_hold(stores: Stores, channel: NotificationChannel) -> None:
    """A hold in the tenant's channel pool (409 when full), reconciling holds whose channel is gone."""
    limit = get_settings().automation.max_channels_per_account
    hold = Hold(member=channel.id, group=None, at=channel.created_at)
    if stores.holds.take(channel.account_id, POOL, hold, limit, None):
        return
    held = stores.holds.holds(channel.account_id, POOL)
    stale = [h for h in held if channel.created_at - h.at > ORPHAN_GRACE_MS and not stores.notification_channels.get(channel.account_id, h.member)]
    for gone in stale:
        stores.holds.release(channel.account_id, POOL, gone.member)
    if stale and stores.holds.take(channel.account_id, POOL, hold, limit, None):
        return
    count("AutomationLimitReached")
    raise AutomationLimitError(
        f"your tenant has at most {limit} notification channels; delete one before adding another",
        details={"quota": "notificationChannelsPerAccount", "limit": limit, "current": len(held)},
    )


def get(stores: Stores, caller: Caller, channel_id: str) -> NotificationChannel:
    channel = stores.notification_channels.get(caller.account_id, channel_id) if is_id(channel_id) else None
    if channel is None or (channel.test_id is not None and not caller.sees_test(channel.test_id)):
        raise ChannelNotFoundError(f"notification channel {channel_id!r} not found")
    return channel


def list_channels(stores: Stores, caller: Caller, test_id: str | None) -> ChannelList:
    if test_id is not None and not is_id(test_id):
        raise BadRequestError("testId is a load test id (32 hex characters)", code="InvalidTestId")
    items = stores.notification_channels.list(caller.account_id, test_id)
    return ChannelList(items=[c for c in items if c.test_id is None or caller.sees_test(c.test_id)])  # a scoped token's tests only


def update(stores: Stores, targets: TargetsFactory, caller: Caller, channel_id: str, request: UpdateChannelRequest) -> NotificationChannel:
    current = get(stores, caller, channel_id)
    _check_access(caller, current.test_id)
    sent = {name: getattr(request, name) for name in request.model_fields_set}
    if not sent:
        raise BadRequestError("the body changes nothing: send at least one field", code="EmptyUpdate")
    if any(value is None for value in sent.values()):
        raise UnprocessableError(f"null is not a value for {', '.join(sorted(k for k, v in sent.items() if v is None))}", code="NullField")
    if "signing_secret" in sent and current.kind != "webhook":
        raise UnprocessableError(f"a {current.kind} channel takes no signingSecret", code="UnexpectedChannelField")
    bus = targets()  # 503 without a bus, before anything is written
    secrets = credential_store()
    credentials = secrets.get(current.account_id, current.id)
    if credentials is None:
        raise UnprocessableError("the channel's credentials are missing: delete it and create it again", code="ChannelCredentialsMissing")
    changes = {k: v for k, v in sent.items() if k in ("name", "filter", "enabled")} | {"updated_at": now_ms(), "updated_by": caller.actor}
    if "url" in sent:
        changes["endpoint_host"] = _check_url(sent["url"])
        credentials = ChannelCredentials(sent["url"], credentials.signing_secret, credentials.auth_value)
    if "signing_secret" in sent:
        credentials = ChannelCredentials(credentials.url, sent["signing_secret"], credentials.auth_value)
    if "url" in sent or "signing_secret" in sent:
        secrets.put(current.account_id, current.id, credentials)

    def write(latest: NotificationChannel | None) -> tuple[NotificationChannel | None] | None:
        if latest is None:  # deleted meanwhile
            return (None,)
        stamped = changes | {"updated_at": audit.stamp(latest.updated_at)}
        after = audit.merged(latest, stamped)
        record = audit.change(caller, "notificationChannel.update", latest.id, load_test_id=latest.test_id, before=latest, after=after, changed=sent)
        stored = stores.notification_channels.update(latest.account_id, latest.id, stamped, audit=record, expect={"updated_at": latest.updated_at})
        return (stored,) if stored is not None else None

    (stored,) = audit.until_written(lambda: stores.notification_channels.get(current.account_id, current.id), write, "notification channel")
    return _settle(stores, bus, stored or current, credentials, deleted=stored is None)


def _settle(
    stores: Stores, bus: ChannelTargets, channel: NotificationChannel, credentials: ChannelCredentials, *, deleted: bool
) -> NotificationChannel:
    """Write the EventBridge resources from the record and credentials as stored until a read after the
    write finds them unchanged: whichever of concurrent PATCHes writes last, EventBridge ends as the
    record says. (Credential fields are one secret: concurrent changes of the URL and of the signing
    secret keep the later write whole.)"""
    secrets = credential_store()
    latest: NotificationChannel | None = None if deleted else channel
    for _ in range(SETTLE_ATTEMPTS):
        if latest is None:  # deleted meanwhile: what this change wrote goes too
            bus.delete(channel)
            secrets.delete(channel.account_id, channel.id)
            raise ChannelNotFoundError(f"notification channel {channel.id!r} was deleted meanwhile")
        bus.put(latest, credentials)
        again, now = stores.notification_channels.get(channel.account_id, channel.id), secrets.get(channel.account_id, channel.id)
        if again is not None and (again.name, again.enabled) == (latest.name, latest.enabled) and now == credentials:
            return again
        latest, credentials = again, now or credentials
    count("NotificationChannelsUnsettled")  # changed on every read: the next change (or `sync`) writes them again
    return latest or channel


def delete(stores: Stores, targets: TargetsFactory, caller: Caller, channel_id: str) -> None:
    channel = get(stores, caller, channel_id)
    _check_access(caller, channel.test_id)
    targets().delete(channel)
    credential_store().delete(channel.account_id, channel.id)

    def write(latest: NotificationChannel | None) -> bool | None:  # gone meanwhile: deleted by another request, and recorded by it
        record = audit.change(caller, "notificationChannel.delete", channel.id, load_test_id=channel.test_id, before=latest)
        expect = {"updated_at": latest.updated_at} if latest else None
        return latest is None or stores.notification_channels.delete(channel.account_id, channel.id, audit=record, expect=expect) or None

    audit.until_written(lambda: stores.notification_channels.get(channel.account_id, channel.id), write, "notification channel")
    stores.holds.release(channel.account_id, POOL, channel.id)


def resync(stores: Stores, targets: TargetsFactory) -> int:
    """Write every channel's EventBridge resources again from its record and credentials."""
    channels = stores.notification_channels.list_all()
    if not channels:
        return 0
    bus, secrets, written = targets(), credential_store(), 0
    for channel in channels:
        credentials = secrets.get(channel.account_id, channel.id)
        if credentials is None:
            logger.warning("a notification channel has no credentials: its resources are not written", extra={"channelId": channel.id})
            continue
        bus.put(channel, credentials)
        written += 1
    return written
