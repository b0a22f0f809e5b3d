"""Notifications through the run's outbox: when a run ends, one `NotificationRequested` event per
channel that wants it, each matched on the bus by that channel's rule and delivered by EventBridge to
its API destination (adapters/notification_targets.py).

`queue` runs in `notify.drain` while the run's RunFinished is still in its outbox: it adds an event
`<runId>:Notify:<channelId>` for each enabled channel that matches the run (its test, or a scope
containing it: usecases/scopes.py) and whose filter wants the run's verdict. Ids are stable and an
id already in the outbox is kept, and RunFinished leaves the outbox only after they are in it (they
are written just after it, so they are published after it), so a drain that died anywhere and runs
again adds nothing twice, and a channel is asked at most once per run (at least once on the bus:
a publish that crashed before its event left the outbox is sent again, with the same eventId).

`detail` renders the message when the event is published (usecases/notification_messages.py), with
the channel as it is then: a channel deleted or disabled meanwhile gets nothing. A webhook's detail
carries the signature and its timestamp, never the signing secret.
"""

from __future__ import annotations

from typing import Any

from load_manager.adapters.channel_credentials import credential_store
from load_manager.adapters.notification_targets import NOTIFICATION_REQUESTED
from load_manager.ids import wall_clock_ms
from load_manager.models.notifications import NotificationChannel, Verdict
from load_manager.models.runs import FINAL_STATUSES, Run
from load_manager.observability import count, logger
from load_manager.store import Stores
from load_manager.store.ports import OutboxEvent
from load_manager.usecases.notification_messages import RENDERERS, Notice, signature, verdict, wanted
from load_manager.usecases.scopes import RunScope, matches

PREVIOUS_PAGE, PREVIOUS_PAGES = 50, 4  # how far back a status change looks for the previous verdict


def event_id(run_id: str, channel_id: str) -> str:
    return f"{run_id}:Notify:{channel_id}"


def channels_for(stores: Stores, run: Run) -> list[NotificationChannel]:
    """The tenant's enabled channels for this run: its test's, and those of a scope containing it."""
    scope = RunScope(org_id=run.org_id, project_id=run.project_id, env_id=run.env_id, test_id=run.load_test_id)
    return [c for c in stores.notification_channels.list(run.account_id) if c.enabled and matches(c, scope)]


def previous_verdict(stores: Stores, run: Run) -> Verdict | None:
    """The verdict of the newest run of the test created before this one that has ended, Cancelled runs
    left out (None: there is none within the last PREVIOUS_PAGE x PREVIOUS_PAGES runs)."""
    after = (run.created_at, run.id)
    for _ in range(PREVIOUS_PAGES):
        page = stores.runs.list(run.account_id, run.load_test_id, status=None, limit=PREVIOUS_PAGE, after=after)
        for older in page:
            if older.status in FINAL_STATUSES and older.status != "Cancelled":
                return verdict(older)
        if len(page) < PREVIOUS_PAGE:
            return None
        after = (page[-1].created_at, page[-1].id)
    return None


def queue(stores: Stores, run: Run, pending: list[OutboxEvent], finished: OutboxEvent) -> list[OutboxEvent]:
    """The outbox with this run's notifications added (see the module's docstring); `finished` is its
    RunFinished, still pending."""
    if run.status not in FINAL_STATUSES:
        return pending
    channels = channels_for(stores, run)
    if not channels:
        return pending
    current = verdict(run)
    previous = previous_verdict(stores, run) if any(c.filter == "statusChange" for c in channels) else None
    have = {e.event_id for e in pending}
    owed = [
        OutboxEvent(event_id(run.id, c.id), NOTIFICATION_REQUESTED, run.status, finished.at + 1)  # after RunFinished, in both adapters
        for c in channels if wanted(c.filter, current, previous) and event_id(run.id, c.id) not in have
    ]  # fmt: skip
    if not owed:
        return pending
    stores.runs.add_events(run.account_id, run.id, owed)
    count("NotificationsQueued", len(owed))
    return stores.runs.pending_events(run.account_id, run.id)


def detail(stores: Stores, run: Run, event: OutboxEvent, links: dict[str, str | None]) -> dict[str, Any] | None:
    """The event's detail, rendered now; None when nothing is to be sent (the channel is gone or off)."""
    channel_id = event.event_id.rsplit(":", 1)[-1]
    channel = stores.notification_channels.get(run.account_id, channel_id)
    if channel is None or not channel.enabled:
        return None
    test = stores.load_tests.get(run.account_id, run.load_test_id)
    notice = Notice(
        event_id=event.event_id, channel_id=channel.id, test_id=run.load_test_id, test_name=test.name if test else run.load_test_id,
        run=run, verdict=verdict(run), previous_verdict=previous_verdict(stores, run), console_url=links.get("console") or "", links=links,
    )  # fmt: skip
    payload = RENDERERS[channel.kind](notice)
    found: dict[str, Any] = {
        "eventId": event.event_id, "channelId": channel.id, "accountId": run.account_id, "runId": run.id,
        "loadTestId": run.load_test_id, "kind": channel.kind, "payload": payload,
    }  # fmt: skip
    if channel.kind == "webhook":
        credentials = credential_store().get(run.account_id, channel.id)
        if credentials is None or not credentials.signing_secret:
            logger.warning("a webhook channel has no signing secret: its notification is not sent", extra={"channelId": channel.id})
            count("NotificationsUnsigned")
            return None
        timestamp = wall_clock_ms() // 1000  # the receiver's clock is the wall clock, whatever this process's says
        found |= {"timestamp": str(timestamp), "signature": signature(credentials.signing_secret, timestamp, payload)}
    return found
