"""EventBridge Scheduler's clock, locally: fire the due occurrences of moto's schedules.

moto stores schedules (the Scheduler API, in process and under serve's `/aws`) but never fires
them. `LocalScheduler.fire_due(now)` does, for every ENABLED schedule: it computes the occurrences
in (last check, now] with cronsim (`cron(...)` read back to 5 fields in the schedule's time zone,
`rate(...)` from its start date, else one interval after its creation; `at(...)` once), within
StartDate/EndDate, and sends each to the target with Scheduler's context attributes filled in
(`<aws.scheduler.scheduled-time>`, ...). Nothing is caught up for the time the process was down,
as Scheduler would not either for a schedule that did not exist.

`fire_due` takes the time from its caller: serve's background loop passes the clock every second,
tests pass the minute they want; tests/e2e/test_serve_schedule_real_clock.py waits for one real
minute of serve's own clock.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from moto.core.models import DEFAULT_ACCOUNT_ID

from load_manager.errors import LoadManagerError
from load_manager.schedule_expressions import ScheduleSpec, from_scheduler_expression

log = logging.getLogger("load_manager_local.scheduler")
MAX_PER_CHECK = 100  # occurrences of one schedule fired by one check (a check after a long pause)
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")

Submit = Callable[[str, Any, str], None]


@dataclass(frozen=True)
class Fired:
    schedule: str
    at: datetime
    function: str


def _datetime(value: Any) -> datetime | None:
    """moto keeps Scheduler's dates as they came: epoch seconds, or an ISO string."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def occurrences(schedule, after: datetime) -> Iterator[datetime]:
    """The occurrences of a moto schedule strictly after `after` (UTC)."""
    expression, timezone = schedule.schedule_expression, schedule.schedule_expression_timezone or "UTC"
    one_time = _AT.match(expression.strip())
    if one_time:
        when = datetime.fromisoformat(one_time.group(1)).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
        return iter([when] if when > after else [])
    cron, rate_seconds = from_scheduler_expression(expression)
    spec = ScheduleSpec(cron=cron, rate_seconds=rate_seconds, timezone=timezone, expression=expression)
    start = _datetime(schedule.start_date)
    anchor = start or (_datetime(schedule.creation_date) or after) + timedelta(seconds=rate_seconds or 0)
    return spec.occurrences(max(after, start - timedelta(seconds=1)) if start else after, anchor=anchor)


def scheduler_payload(schedule, at: datetime) -> Any:
    import json

    text = schedule.target.get("Input") or "{}"
    for name, value in {
        "aws.scheduler.scheduled-time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws.scheduler.execution-id": str(uuid.uuid4()),
        "aws.scheduler.attempt-number": "1",
        "aws.scheduler.schedule-arn": schedule.arn,
    }.items():
        text = text.replace(f"<{name}>", value)
    return json.loads(text)


class LocalScheduler:
    def __init__(self, submit: Submit, region: str, account_id: str = DEFAULT_ACCOUNT_ID, started_at: datetime | None = None):
        self.submit, self.region, self.account_id = submit, region, account_id
        self.started_at = started_at or datetime.now(UTC)
        self._checked: dict[str, datetime] = {}  # schedule ARN -> time of its last check
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def fire_due(self, now: datetime) -> list[Fired]:
        """Fire every occurrence due in (last check, now]; returns what was sent."""
        from moto.scheduler.models import scheduler_backends

        fired: list[Fired] = []
        with self._lock:
            backend = scheduler_backends[self.account_id][self.region]
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    fired += self._fire_schedule(schedule, now)
        return fired

    def _fire_schedule(self, schedule, now: datetime) -> list[Fired]:
        created = _datetime(schedule.creation_date) or self.started_at
        since = self._checked.get(schedule.arn, max(self.started_at, created))
        self._checked[schedule.arn] = max(since, now)
        if schedule.state != "ENABLED" or now <= since:
            return []
        end = _datetime(schedule.end_date)
        try:
            due: list[datetime] = []
            for at in occurrences(schedule, since):
                if at > now or (end is not None and at > end) or len(due) >= MAX_PER_CHECK:
                    break
                due.append(at)
        except (ValueError, LoadManagerError) as exc:
            log.warning("schedule %s cannot be fired locally: %s", schedule.name, exc)
            return []
        return [self._send(schedule, at) for at in due]

    def _send(self, schedule, at: datetime) -> Fired:
        arn = str(schedule.target.get("Arn", ""))
        function = arn.split(":function:")[1].split(":")[0] if ":function:" in arn else arn
        if ":function:" not in arn:
            log.warning("schedule %s targets %s: only Lambda targets are invoked locally", schedule.name, arn)
        else:
            self.submit(function, scheduler_payload(schedule, at), f"schedule {schedule.name}")
        return Fired(schedule=schedule.name, at=at, function=function)

    def run_in_background(self, tick_seconds: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(tick_seconds):
                try:
                    self.fire_due(datetime.now(UTC))
                except Exception:  # noqa: BLE001 - one bad tick must not stop the clock
                    log.exception("local scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
